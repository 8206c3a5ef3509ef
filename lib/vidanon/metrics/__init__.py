"""Pure metric functions over arrays (numpy, scipy, scikit-image only), each testable against its
reference: ranking (CMC/mAP/mINP, chance, CIs), attacks, drift, temporal, quality, pose, detection,
face verification, leaks and the Pareto front."""
