"""Reproduce Fridovich-Keil et al. 2022, "Spectral Bias in Practice: The Role of Function Frequency
in Generalization", on scikit-learn's digits.

Usage::

    python scripts/reproduce_fridovich2022.py --budget cpu|paper --out DIR [--set KEY=VALUE ...]

The earlier flags ``--seeds``, ``--epochs``, ``--pairs``, ``--samples``, ``--examples`` and
``--noise-frequencies`` still work (they become ``--set KEY=VALUE``). The experiment is defined in
:mod:`coordnet.experiments.fridovich2022`.
"""

import sys

from coordnet.experiments.fridovich2022 import main

if __name__ == "__main__":
    sys.exit(main())
