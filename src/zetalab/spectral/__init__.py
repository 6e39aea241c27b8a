"""Study S: the geodesic-coupled spectral neural ODE of seed 003.

A spectrum A(c, lambda) is carried from one concentration to another along a geodesic of a
learned one-dimensional metric g(c, lambda): the concentration path solves the boundary-value
problem c(0) = c_a, c(1) = c_b of c'' + Gamma c'^2 = 0 (shooting), and the absorbance follows
dA/ds = v * f(c, v, A, e(lambda)) along it. Modules, one job each:

- ``config``      the ``spectral:`` section as dataclasses
- ``device``      CUDA/CPU set-up (TF32, cuDNN benchmark, memory fraction)
- ``data``        seeded synthetic spectra on the device, grid checks, transitions
- ``metric``      the metric network g > 0 and closed-form metrics for checks
- ``christoffel`` Gamma = 1/2 g^-1 dg/dc by finite differences and by autograd
- ``integrate``   fixed-step rk4 (no branches) and the torchdiffeq front end
- ``shooting``    batched Newton shooting for boundary-value geodesics
- ``dynamics``    ODE right-hand sides as modules
- ``model``       the coupled model
- ``train``       training loop, checkpoints, throughput, profiler
- ``scores``      MSE, MAE, R^2, spectral angle
- ``validate``    leave-one-out interpolation against the linear baseline
- ``benchmark``   throughput figures
- ``export``      TorchScript / ONNX export of the unrolled model
- ``infer``       standalone inference (needs only torch, or onnx)

Nothing is imported here, so ``python -m zetalab.spectral.infer`` stays free of training code.
"""
