"""Reproduce Basri/Ronen et al. 2019, "The Convergence Rate of Neural Networks for Learned Functions
of Different Frequencies".

Usage::

    python scripts/reproduce_basri2019.py --budget cpu|paper --out DIR [--seed S] [--set KEY=VALUE ...]

The experiment is defined in :mod:`coordnet.experiments.basri2019`.
"""

import sys

from coordnet.experiments.basri2019 import main

if __name__ == "__main__":
    sys.exit(main())
