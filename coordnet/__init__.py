"""coordnet: coordinate-based MLPs and the input encodings that overcome spectral bias.

Subpackages:
    coordnet.encoders  input encodings, ``nn.Module``s on ``(..., d)`` inputs
    coordnet.ops       compiled kernels and their pure-PyTorch references
"""

__version__ = "0.1.0"


def load(path: str, device: str = "cpu"):
    """The model of a ``checkpoint.pt`` written by ``coordnet fit``, ready to evaluate:
    ``model(coords (..., d)) -> (..., C)`` with coordinates in the fitted signal's domain."""
    from coordnet.training.checkpoint import load as load_checkpoint_model

    return load_checkpoint_model(path, device=device)
