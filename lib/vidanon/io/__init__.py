"""Files in and out: the sample registry, the weights resolver, streamed video, crop images and
their manifest, and the one content-keyed cache every stage uses."""
