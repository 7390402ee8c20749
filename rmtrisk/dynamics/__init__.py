"""Training dynamics: how linear denoising autoencoders and over-parameterized ReLU
autoencoders train, not only where they end.

Submodules: ``modes`` (the mode dynamics of two-layer linear DAEs, noise versus weight decay),
``risk_over_time`` (the high-dimensional test risk of a one-layer linear DAE trained by gradient
flow for time t), ``relu`` (gradient descent on two-layer ReLU autoencoders and the limiting Gram
matrices that govern its linear rate).
"""
