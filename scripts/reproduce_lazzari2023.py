"""Reproduce Lazzari & Liu 2023, "Understanding the Spectral Bias of Coordinate Based MLPs Via Training
Dynamics": activation regions, Hamming distance and gradient confusion of a ReLU MLP fitting images.

Usage::

    python scripts/reproduce_lazzari2023.py --budget cpu|paper --out DIR [--data DIR | --image NAME_OR_PATH]
        [--set KEY=VALUE ...]

``--budget paper`` needs ``--data`` (the DIV2K test images of Tancik et al.'s data). The experiment
is defined in :mod:`coordnet.experiments.lazzari2023`.
"""

import sys

from coordnet.experiments.lazzari2023 import main

if __name__ == "__main__":
    sys.exit(main())
