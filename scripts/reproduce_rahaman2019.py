"""Reproduce Rahaman et al. 2019, "On the Spectral Bias of Neural Networks".

Usage::

    python scripts/reproduce_rahaman2019.py --budget cpu|paper --out DIR [--seed S] [--set KEY=VALUE ...]

The experiment is defined in :mod:`coordnet.experiments.rahaman2019`.
"""

import sys

from coordnet.experiments.rahaman2019 import main

if __name__ == "__main__":
    sys.exit(main())
