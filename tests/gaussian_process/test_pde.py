"""GPPDESolver (GP-HM) against exact solutions, finite differences and the
dense/Kronecker paths against each other."""

import numpy as np
import pytest

import kernlearn.gaussian_process._pde as pde_mod
from kernlearn.datasets import PDE_PROBLEMS, make_pde_problem
from kernlearn.gaussian_process import GPPDESolver, PDEOperator
from kernlearn.kernels import SpectralMixture, StudentTMixture


def rel(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


# ---------------------------------------------------------------- benchmarks
@pytest.mark.parametrize(
    "name, target",
    [
        ("poisson_1d_high_freq", 1e-5),
        ("allen_cahn_1d_high_freq", 1e-5),
        ("poisson_1d_multi_scale", 1e-3),
        ("poisson_2d_high_freq", 1e-3),
        ("allen_cahn_2d_high_freq", 1e-3),
    ],
)
def test_paper_benchmarks_reach_target(name, target):
    # the targets, on the paper's grids, final iterate
    p = make_pde_problem(name)
    s = GPPDESolver(p.operator).fit(p.X, p.y)
    assert rel(s.grid_values_, p.u) < target
    assert rel(s.predict(p.X), p.u) < target
    # off the grid too
    rng = np.random.default_rng(0)
    lo, hi = np.array(p.domain).T
    Xt = rng.uniform(lo, hi, size=(500, len(lo)))
    assert rel(s.predict(Xt), p.solution(Xt)) < 10 * target


def test_student_t_kernel_reaches_target():
    p = make_pde_problem("poisson_1d_high_freq")
    s = GPPDESolver(p.operator, kernel="student_t").fit(p.X, p.y)
    assert isinstance(s.kernels_[0], StudentTMixture)
    assert rel(s.predict(p.X), p.u) < 1e-4


def test_grid_refinement_converges():
    # the error falls fast as the grid resolves the highest frequency (15.9
    # cycles per unit: 32 points at Nyquist), then sits at the 1e-5 level
    def err(name, n):
        q = make_pde_problem(name, n)
        return rel(GPPDESolver("poisson").fit(q.X, q.y).predict(q.X), q.u)

    errs = [err("poisson_1d_multi_scale", n) for n in (40, 50, 70, 400)]
    assert errs[0] > 5 * errs[1] > 25 * errs[2]
    assert max(errs[2:]) < 1e-4
    # 100 periods on [0, 2 pi]: 200 points barely resolve them, 400 do
    assert err("poisson_1d_high_freq", 200) > 1e3 * err("poisson_1d_high_freq", 400)


def test_2d_multi_scale_kronecker_path():
    p = make_pde_problem("poisson_2d_multi_scale", 80)
    s = GPPDESolver(p.operator, max_dense=1000).fit(p.X, p.y)
    assert s.algorithm_ == "kronecker"
    assert rel(s.predict(p.X), p.u) < 1e-3
    assert s.equation_residual_ < 1e-6


def test_allen_cahn_2d_dense_and_kronecker_paths_agree():
    p = make_pde_problem("allen_cahn_2d_high_freq", 30)
    # a low-frequency solution under the same operator, both paths
    u = np.sin(3 * p.X[:, 0]) * np.sin(2 * p.X[:, 1])
    y = np.where(p.boundary_mask, u, -13 * u + u * (u**2 - 1))
    kron = GPPDESolver("allen_cahn", algorithm="kronecker").fit(p.X, y)
    dense = GPPDESolver("allen_cahn", algorithm="dense").fit(p.X, y)
    # a coarse grid for this kernel (~3e-4 from the exact solution), but
    # Newton-Krylov and the dense Gauss-Newton land on the same grid values
    assert rel(kron.predict(p.X), u) < 1e-3
    assert rel(dense.predict(p.X), u) < 1e-3
    assert rel(kron.grid_values_, dense.grid_values_) < 1e-5


def test_dense_and_kronecker_paths_agree():
    # the dense ridge solve and the Kronecker collocation (its noise -> 0
    # limit) on the same problem: both near the exact solution and each other
    p = make_pde_problem("poisson_2d_multi_scale", 36)
    kron = GPPDESolver(algorithm="kronecker").fit(p.X, p.y)
    dense = GPPDESolver(algorithm="dense").fit(p.X, p.y)
    assert rel(kron.grid_values_, p.u) < 1e-3
    assert rel(dense.grid_values_, p.u) < 1e-3
    assert rel(dense.grid_values_, kron.grid_values_) < 1e-3


def test_advection_diffusion_operator_2d():
    # u = exp(-t) sin(pi x) solves u_t - u_xx / pi^2 = 0 ... plus a source
    a = np.linspace(0.0, 1.0, 30)
    T, Xg = np.meshgrid(a, a, indexing="ij")
    X = np.column_stack([T.ravel(), Xg.ravel()])
    u = np.exp(-X[:, 0]) * np.sin(np.pi * X[:, 1]) + X[:, 1]
    op = PDEOperator.advection_diffusion(velocity=[1.0, 0.0], diffusion=[0.0, 0.5])
    f = -np.exp(-X[:, 0]) * np.sin(np.pi * X[:, 1]) + 0.5 * np.pi**2 * np.exp(
        -X[:, 0]
    ) * np.sin(np.pi * X[:, 1])
    sides = [("lower",), ("lower", "upper")]
    on_face = (X[:, 0] == 0) | (X[:, 1] == 0) | (X[:, 1] == 1)
    y = np.where(on_face, u, f)
    for algorithm in ("dense", "kronecker"):
        s = GPPDESolver(op, boundary_sides=sides, algorithm=algorithm).fit(X, y)
        np.testing.assert_array_equal(s.boundary_mask_, on_face)
        assert rel(s.predict(X), u) < 1e-3, algorithm


# ---------------------------------------------------------------- gradients
def _capture(monkeypatch, name):
    seen = {}
    orig = getattr(pde_mod.GPPDESolver, name)

    def spy(self, kernels, ctx, eval_gradient, v0):
        seen["ctx"] = ctx
        return orig(self, kernels, ctx, eval_gradient, v0)

    monkeypatch.setattr(pde_mod.GPPDESolver, name, spy)
    return seen, orig


def _fd_check(solver, orig, ctx, kernels, rtol):
    theta = np.concatenate([k.theta for k in kernels])
    sizes = np.cumsum([k.n_dims for k in kernels])[:-1]

    def ev(t, grad=False):
        ks = [
            k.clone_with_theta(p)
            for k, p in zip(kernels, np.split(t, sizes), strict=True)
        ]
        return orig(solver, ks, ctx, grad, None)

    _, g, _ = ev(theta, True)
    h = 1e-5
    fd = np.array(
        [
            (ev(theta + h * e)[0] - ev(theta - h * e)[0]) / (2 * h)
            for e in np.eye(len(theta))
        ]
    )
    np.testing.assert_allclose(g, fd, rtol=rtol, atol=rtol * np.abs(fd).max())


@pytest.mark.parametrize("operator", ["poisson", "allen_cahn"])
def test_dense_objective_gradient_matches_finite_differences(monkeypatch, operator):
    seen, orig = _capture(monkeypatch, "_dense_eval")
    x = np.linspace(0.0, 1.0, 40)
    u = np.sin(7 * x) + x
    f = -49 * np.sin(7 * x) + (u * (u**2 - 1) if operator == "allen_cahn" else 0)
    y = np.where((x == 0) | (x == 1), u, f)
    k = SpectralMixture(weights=[1.0, 0.5], means=[1.1, 0.3], scales=[0.4, 0.5])
    s = GPPDESolver(operator, kernel=k, noise=1e-6, jitter=1e-6).fit(x[:, None], y)
    _fd_check(s, orig, seen["ctx"], [k], 1e-5)


@pytest.mark.parametrize("operator", ["poisson", "allen_cahn"])
def test_kronecker_objective_gradient_matches_finite_differences(monkeypatch, operator):
    seen, orig = _capture(monkeypatch, "_kron_eval")
    p = make_pde_problem("poisson_2d_multi_scale", 14)
    if operator == "allen_cahn":  # the same solution under Allen-Cahn
        inner = ~p.boundary_mask
        p.y[inner] = p.y[inner] + p.u[inner] * (p.u[inner] ** 2 - 1)
    ks = [
        SpectralMixture(weights=[1.0], means=[2.0], scales=[0.6]),
        StudentTMixture(weights=[1.0, 0.3], means=[1.0, 3.0], scales=[0.5, 0.7]),
    ]
    s = GPPDESolver(operator, kernel=ks, algorithm="kronecker", jitter=1e-6)
    s.fit(p.X, p.y)
    _fd_check(s, orig, seen["ctx"], ks, 1e-4)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_learning_lowers_the_objective():
    p = make_pde_problem("poisson_1d_multi_scale", 100)
    fixed = GPPDESolver(learning_jitter=1e-6, jitter=1e-6).fit(p.X, p.y)
    learnt = GPPDESolver(
        optimizer="fmin_l_bfgs_b", max_iter=6, learning_jitter=1e-6, jitter=1e-6
    ).fit(p.X, p.y)
    assert learnt.n_iter_ >= 1
    assert learnt.objective_ < fixed.objective_
    assert rel(learnt.predict(p.X), p.u) < 1e-3


# ---------------------------------------------------------------- kernels
@pytest.mark.parametrize(
    "kernel",
    [
        SpectralMixture(weights=[1.0, 0.5], means=[1.0, 3.0], scales=[0.3, 0.2]),
        StudentTMixture(weights=[1.0, 0.5], means=[1.0, 3.0], scales=[0.3, 0.2]),
        StudentTMixture(weights=[1.0], means=[2.0], scales=[0.3], nu=2.5),
    ],
)
def test_kernel_derivatives_match_finite_differences(kernel):
    x, y = np.linspace(0.0, 1.3, 7), np.linspace(-0.2, 1.0, 5)
    (K0, K1, K2), grads = kernel.derivatives(x, y, 2, eval_gradient=True)
    h = 1e-4

    def K(xx):
        return kernel(xx[:, None], y[:, None])

    np.testing.assert_allclose(K0, K(x), atol=1e-14)
    fd1 = (K(x + h) - K(x - h)) / (2 * h)
    np.testing.assert_allclose(K1, fd1, atol=1e-6 * np.abs(K2).max())
    fd2 = (K(x + h) - 2 * K(x) + K(x - h)) / h**2
    np.testing.assert_allclose(K2, fd2, atol=1e-4 * np.abs(K2).max())
    # the diagonal (t = 0) takes the limits
    D2 = kernel.derivatives(y, None, 2)[2]
    fd0 = (
        kernel.derivatives(y + h, y, 0)[0]
        - 2 * kernel.derivatives(y, y, 0)[0]
        + kernel.derivatives(y - h, y, 0)[0]
    ) / h**2
    # (a Matern envelope of low order is only just twice differentiable at 0,
    # so the central difference converges slowly there)
    np.testing.assert_allclose(np.diag(D2), np.diag(fd0), rtol=1e-2)
    th = kernel.theta
    for p in range(3):
        for j in range(len(th)):
            e = np.zeros_like(th)
            e[j] = 1e-6
            fd = (
                kernel.clone_with_theta(th + e).derivatives(x, y, 2)[p]
                - kernel.clone_with_theta(th - e).derivatives(x, y, 2)[p]
            ) / 2e-6
            scale = np.abs(fd).max() + 1e-12
            assert np.abs(fd - grads[p][..., j]).max() < 1e-6 * scale


def test_periodogram_initialisation_finds_the_frequencies():
    p = make_pde_problem("poisson_1d_multi_scale")
    s = GPPDESolver().fit(p.X, p.y)
    means = np.sort(s.kernels_[0].means)
    # 20 and 100 rad per unit, and the smooth part
    assert np.abs(means[-1] - 100 / (2 * np.pi)) < 0.1
    assert np.abs(means[-2] - 20 / (2 * np.pi)) < 0.5
    assert means[0] < 1.0


# ---------------------------------------------------------------- datasets
@pytest.mark.parametrize("name", PDE_PROBLEMS)
def test_problem_sources_are_the_operator_of_the_solution(name):
    # finite differences of the exact solution against the stated source
    p = make_pde_problem(name, 9)
    op = {"poisson": PDEOperator.poisson, "allen_cahn": PDEOperator.allen_cahn}[
        p.operator
    ](len(p.axes))
    X = p.X[~p.boundary_mask]
    h = 1e-4
    lap = 0.0
    for d in range(X.shape[1]):
        e = np.zeros(X.shape[1])
        e[d] = h
        lap = lap + (p.solution(X + e) - 2 * p.solution(X) + p.solution(X - e)) / h**2
    Lu = lap + (0 if op.is_linear else op.nonlinearity(p.solution(X)))
    np.testing.assert_allclose(Lu, p.y[~p.boundary_mask], rtol=1e-4, atol=1e-2)
    np.testing.assert_array_equal(p.y[p.boundary_mask], p.u[p.boundary_mask])


def test_unknown_problem_and_bad_grid():
    with pytest.raises(ValueError, match="unknown PDE problem"):
        make_pde_problem("heat")
    with pytest.raises(ValueError, match="n_points"):
        make_pde_problem("poisson_1d_high_freq", 2)


# ---------------------------------------------------------------- errors
def test_operator_validation():
    with pytest.raises(ValueError, match="total order"):
        PDEOperator({(2, 1): 1.0})
    with pytest.raises(ValueError, match="one entry per axis"):
        PDEOperator({(2,): 1.0, (0, 2): 1.0})
    with pytest.raises(ValueError, match="go together"):
        PDEOperator({(2,): 1.0}, nonlinearity=np.sin)
    with pytest.raises(ValueError, match="finite"):
        PDEOperator({(2,): np.nan})
    op = PDEOperator.advection_diffusion([1.0, 2.0], diffusion=0.1, reaction=3.0)
    assert op.terms == {
        (1, 0): 1.0,
        (2, 0): -0.1,
        (0, 1): 2.0,
        (0, 2): -0.1,
        (0, 0): 3.0,
    }
    assert op.is_separable and op.is_linear
    assert not PDEOperator({(1, 1): 1.0}).is_separable


def test_bad_inputs_name_the_fix():
    p = make_pde_problem("poisson_1d_high_freq", 50)
    y = p.y.copy()
    y[3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        GPPDESolver().fit(p.X, y)
    with pytest.raises(ValueError, match="axes"):
        GPPDESolver(PDEOperator.poisson(2)).fit(p.X, p.y)
    with pytest.raises(ValueError, match="boundary_sides"):
        GPPDESolver(boundary_sides=[("left",)]).fit(p.X, p.y)
    with pytest.raises(TypeError, match="SpectralMixture"):
        from sklearn.gaussian_process.kernels import RBF

        GPPDESolver(kernel=RBF()).fit(p.X, p.y)
    with pytest.raises(ValueError, match="nu > 2"):
        GPPDESolver(kernel=StudentTMixture(nu=1.5)).fit(p.X, p.y)
    q = make_pde_problem("poisson_2d_multi_scale", 20)
    mixed = PDEOperator({(2, 0): 1.0, (1, 1): 0.5, (0, 2): 1.0})
    with pytest.raises(ValueError, match="max_dense"):
        GPPDESolver(mixed, max_dense=100).fit(q.X, q.y)
    with pytest.raises(ValueError, match="separable"):
        GPPDESolver(mixed, algorithm="kronecker").fit(q.X, q.y)
    with pytest.raises(ValueError, match="noise"):
        GPPDESolver(noise=-1.0).fit(p.X, p.y)


def test_kronecker_3d():
    a = np.linspace(0.0, 1.0, 24)
    X = np.stack(np.meshgrid(a, a, a, indexing="ij"), -1).reshape(-1, 3)
    core = np.sin(2 * np.pi * X[:, 0]) * np.sin(3 * np.pi * X[:, 1])
    core = core * np.sin(np.pi * X[:, 2])
    u = core + X[:, 0]
    on_face = ((X == 0) | (X == 1)).any(axis=1)
    y = np.where(on_face, u, -14 * np.pi**2 * core)
    s = GPPDESolver().fit(X, y)
    assert s.algorithm_ == "kronecker"
    assert rel(s.grid_values_, u) < 1e-4
    assert rel(s.predict(X), u) < 1e-3
    Xt = np.random.default_rng(0).uniform(0, 1, (300, 3))
    ut = np.sin(2 * np.pi * Xt[:, 0]) * np.sin(3 * np.pi * Xt[:, 1])
    ut = ut * np.sin(np.pi * Xt[:, 2]) + Xt[:, 0]
    assert rel(s.predict(Xt), ut) < 1e-3


def test_interpolation_jitter_auto_beats_fixed_extremes():
    p = make_pde_problem("poisson_2d_multi_scale", 60)
    errs = {
        j: rel(
            GPPDESolver(interpolation_jitter=j, max_dense=100)
            .fit(p.X, p.y)
            .predict(p.X),
            p.u,
        )
        for j in ("auto", 1e-14, 1e-3)
    }
    assert errs["auto"] < 1e-4
    assert errs["auto"] < 0.1 * min(errs[1e-14], errs[1e-3])


def test_learning_on_a_singular_collocation_warns_and_keeps_the_kernel():
    from sklearn.exceptions import ConvergenceWarning

    p = make_pde_problem("poisson_2d_multi_scale", 60)
    plain = GPPDESolver(max_dense=100).fit(p.X, p.y)
    with pytest.warns(ConvergenceWarning, match="learning_jitter"):
        s = GPPDESolver(
            optimizer="fmin_l_bfgs_b", max_dense=100, learning_jitter=1e-6
        ).fit(p.X, p.y)
    assert s.n_iter_ == 0
    np.testing.assert_allclose(s.kernels_[0].theta, plain.kernels_[0].theta)
