"""Spectral-bias measurement: frequency-resolved learning, convergence rates, NTK spectra.

* :mod:`~coordnet.spectral.spectrum` — FFT bookkeeping: amplitudes of 1D signals at chosen
  frequencies, error energy in radial bands of a 2D FFT;
* :mod:`~coordnet.spectral.curves` — learning curves per frequency or band, the step each is
  learned, and the spectral-bias index (Spearman correlation of learning step with frequency);
* :mod:`~coordnet.spectral.probe` — :class:`SpectrumProbe`, a trainer callback (``coordnet fit
  --probe spectrum``);
* :mod:`~coordnet.spectral.rahaman` — Rahaman et al. (2019): sinusoid targets, parameter
  perturbation, the manifold experiment;
* :mod:`~coordnet.spectral.ntk_circle` — closed-form eigenvalues of the two-layer ReLU NTK on
  the circle and the sphere (Basri et al. 2019);
* :mod:`~coordnet.spectral.convergence` — measured time to learn each frequency;
* :mod:`~coordnet.spectral.basri_protocol` — Basri et al.'s own runs (random points, their
  step, many runs per frequency, the deep ``config.py`` net), ported;
* :mod:`~coordnet.spectral.empirical_ntk` — empirical NTK of any encoder + MLP (``torch.func``);
* :mod:`~coordnet.spectral.classifiers`, :mod:`~coordnet.spectral.path_power`,
  :mod:`~coordnet.spectral.path_fraction`, :mod:`~coordnet.spectral.label_noise` — function
  frequency of image classifiers along interpolation paths (Fridovich-Keil et al. 2022):
  coordnet's windowed centroid, the paper's power spectrum at a fixed input-space step, and the
  RobustNets high-frequency fraction ("Models Out of Line", 2022).
"""

from coordnet.spectral.convergence import (
    PowerLawFit,
    TimeToLearn,
    deep_time_to_learn,
    fit_power_law,
    shallow_time_to_learn,
)
from coordnet.spectral.curves import (
    BandCurves,
    FrequencyCurves,
    LearningOrder,
    band_curves,
    frequency_curves,
    learning_order,
    spectral_bias_index,
)
from coordnet.spectral.empirical_ntk import NTKSpectrum, empirical_ntk, ntk_spectrum
from coordnet.spectral.ntk_circle import circle_ntk_eigenvalues, sphere_ntk_eigenvalues
from coordnet.spectral.probe import SpectrumProbe
from coordnet.spectral.spectrum import (
    RadialBands,
    amplitudes,
    fourier_coefficients,
    radial_band_energy,
)

__all__ = [
    "BandCurves",
    "FrequencyCurves",
    "LearningOrder",
    "NTKSpectrum",
    "PowerLawFit",
    "RadialBands",
    "SpectrumProbe",
    "TimeToLearn",
    "amplitudes",
    "band_curves",
    "circle_ntk_eigenvalues",
    "deep_time_to_learn",
    "empirical_ntk",
    "fit_power_law",
    "fourier_coefficients",
    "frequency_curves",
    "learning_order",
    "ntk_spectrum",
    "radial_band_energy",
    "shallow_time_to_learn",
    "spectral_bias_index",
    "sphere_ntk_eigenvalues",
]
