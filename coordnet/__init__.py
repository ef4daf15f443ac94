"""coordnet: coordinate-based MLPs and the input encodings that overcome spectral bias.

Subpackages:
    coordnet.encoders  input encodings, ``nn.Module``s on ``(..., d)`` inputs
    coordnet.ops       compiled kernels and their pure-PyTorch references
"""
__version__ = "0.1.0"
