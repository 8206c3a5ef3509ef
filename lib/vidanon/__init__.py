"""vidanon: anonymize the people in videos and measure what leaks and what survives.

The package is the helper library behind the numbered notebooks in ``notebooks/``; see the
README for the data flow and docs/architecture.md for which module does what.
"""

__version__ = "0.1.0"
