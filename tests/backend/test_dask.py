"""The dask engine against the numpy engine, on a LocalCluster of 2 processes.

Reference: the same primitive on the whole in-memory arrays with
``backend="numpy"`` (itself tested against dense formulas). The cluster runs on
loopback with two single-threaded worker processes; the graph-structure and
error tests need no cluster (dask's synchronous scheduler).
"""

import logging
import os
import signal
import time

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")

import kernlearn  # noqa: E402
from kernlearn.backend import (  # noqa: E402
    _dask,
    is_dask_array,
    kernel_logsumexp,
    kernel_matrix,
    kernel_sum,
    kernel_topk,
    map_row_blocks,
)
from kernlearn.kernels import Gaussian, Laplacian  # noqa: E402

pytestmark = pytest.mark.dask

RNG = np.random.default_rng(7)
X = RNG.normal(size=(101, 5))
Y = RNG.normal(size=(89, 5))
W_ALL = RNG.normal(size=(101, 3))
W = W_ALL[:89]
LOGW = np.log(RNG.uniform(0.1, 2.0, size=101))
LOGW[[3, 40]] = -np.inf
KERNEL = Gaussian(1.3)


def local_cluster(silence=logging.ERROR):
    """Two single-threaded worker processes on loopback."""
    return distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=":0",
        silence_logs=silence,
    )


@pytest.fixture(scope="module")
def client():
    with local_cluster() as cluster, distributed.Client(cluster) as c:
        yield c


@pytest.fixture
def sync():
    with dask.config.set(scheduler="sync"):
        yield


# (X chunks, Y chunks): rows and columns both split and uneven; one chunk each;
# Y in memory; X in memory; Y=None.
CHUNKINGS = {
    "uneven": ((17, 5), (13, 3)),
    "single": ((101, 5), (89, 5)),
    "y_numpy": ((30, 5), None),
    "x_numpy": (None, (20, 5)),
    "y_none": ((25, 5), "same"),
}


def _inputs(chunking, dtype=np.float64):
    cx, cy = CHUNKINGS[chunking]
    Xa, Ya = X.astype(dtype), Y.astype(dtype)
    Xd = Xa if cx is None else da.from_array(Xa, chunks=cx)
    if cy == "same":
        return Xd, None, Xa, Xa
    Yd = Ya if cy is None else da.from_array(Ya, chunks=cy)
    return Xd, Yd, Xa, Ya


def _ops(Xd, Yd, Xa, Ya, Wd=None):
    """(name, lazy result, numpy-engine reference) for every primitive."""
    n = len(Ya)
    w, logw = W_ALL[:n], LOGW[:n]
    return [
        ("sum", kernel_sum(KERNEL, Xd, Yd),
         kernel_sum(KERNEL, Xa, Ya, backend="numpy")),
        ("sum_vec", kernel_sum(KERNEL, Xd, Yd, w[:, 0]),
         kernel_sum(KERNEL, Xa, Ya, w[:, 0], backend="numpy")),
        ("sum_mat", kernel_sum(KERNEL, Xd, Yd, w if Wd is None else Wd),
         kernel_sum(KERNEL, Xa, Ya, w, backend="numpy")),
        ("lse", kernel_logsumexp(KERNEL, Xd, Yd),
         kernel_logsumexp(KERNEL, Xa, Ya, backend="numpy")),
        ("lse_w", kernel_logsumexp(KERNEL, Xd, Yd, logw),
         kernel_logsumexp(KERNEL, Xa, Ya, logw, backend="numpy")),
        ("matrix", kernel_matrix(KERNEL, Xd, Yd),
         kernel_matrix(KERNEL, Xa, Ya, backend="numpy")),
    ]  # fmt: skip


def _close(a, b, dtype):
    tol = 1e-12 if dtype == np.float64 else 2e-6
    assert a.dtype == b.dtype
    assert a.shape == b.shape
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol * np.abs(b).max())


@pytest.mark.parametrize("chunking", list(CHUNKINGS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_primitives_equal_numpy_engine_on_cluster(client, chunking, dtype):
    Xd, Yd, Xa, Ya = _inputs(chunking, dtype)
    with kernlearn.config_context(backend="numpy"):
        ops = _ops(Xd, Yd, Xa, Ya)
        tops = [
            (k, kernel_topk(KERNEL, Xd, Yd, k=k), kernel_topk(KERNEL, Xa, Ya, k=k))
            for k in (1, 4, 30)  # 30 > a column chunk: merged across chunks
        ]
    for name, lazy, ref in ops:
        assert is_dask_array(lazy), name
        assert lazy.chunks[0] == (Xd.chunks[0] if is_dask_array(Xd) else lazy.chunks[0])
        _close(lazy.compute(), ref, dtype)
    for k, (vals, idx), (rv, ri) in tops:
        v, i = dask.compute(vals, idx)
        assert v.shape == (len(Xa), k) and i.dtype == np.int64
        np.testing.assert_array_equal(i, ri)
        _close(v, rv, dtype)


def test_dask_weights_and_numba_blocks_on_cluster(client):
    """Weights as a dask array chunked unlike Y; the numba engine on the workers."""
    Xd = da.from_array(X, chunks=(40, 5))
    Yd = da.from_array(Y, chunks=(30, 5))
    Wd = da.from_array(W, chunks=(50, 2))
    lazy = kernel_sum(Laplacian(0.9), Xd, Yd, Wd, backend="numba")
    ref = kernel_sum(Laplacian(0.9), X, Y, W, backend="numpy")
    np.testing.assert_allclose(lazy.compute(), ref, rtol=1e-10, atol=1e-12)
    vals, idx = kernel_topk(Laplacian(0.9), Xd, Yd, k=5, backend="numba")
    rv, ri = kernel_topk(Laplacian(0.9), X, Y, k=5, backend="numpy")
    np.testing.assert_array_equal(idx.compute(), ri)
    np.testing.assert_allclose(vals.compute(), rv, rtol=1e-12)


def test_in_memory_inputs_with_backend_dask_run_on_the_client(client):
    """backend='dask' on numpy input: the cluster runs it, numpy comes back."""
    with distributed.get_task_stream(client) as stream:
        with kernlearn.config_context(backend="dask"):
            out = kernel_sum(KERNEL, X, Y, W)
            vals, idx = kernel_topk(KERNEL, X, Y, k=3)
    assert isinstance(out, np.ndarray) and isinstance(idx, np.ndarray)
    np.testing.assert_allclose(out, kernel_sum(KERNEL, X, Y, W, backend="numpy"),
                               rtol=1e-12)  # fmt: skip
    np.testing.assert_array_equal(idx, kernel_topk(KERNEL, X, Y, k=3)[1])
    ran = [str(t["key"]) for t in stream.data]
    assert any("kernel_sum-pairs" in key for key in ran)  # on the cluster
    assert any("kernel_topk-pairs" in key for key in ran)


# ------------------------------------------------------------ graph structure
def _pairs_and_reduction(arr):
    """The kernlearn layers of a result's graph: {layer name: tasks}."""
    hlg = arr.__dask_graph__()
    return {k: dict(v) for k, v in hlg.layers.items() if k.startswith("kernlearn-")}


def test_graph_has_one_task_per_block_pair_plus_the_tree_reduction():
    Xd = da.from_array(X, chunks=(20, 5))  # 6 row blocks
    Yd = da.from_array(Y, chunks=(5, 5))  # 18 column blocks
    out = _dask.lazy("kernel_sum", KERNEL, Xd, Yd, W, None, "numpy", split_every=4)
    layers = _pairs_and_reduction(out)
    (pname,) = [k for k in layers if "-pairs-" in k]
    (rname,) = [k for k in layers if "-pairs-" not in k]
    pairs = {k: v for k, v in layers[pname].items() if isinstance(k, tuple)}
    assert len(pairs) == 6 * 18
    assert len(layers[pname]) == 6 * 18 + 1  # + the kernel, one key
    # 18 partials -> 5 -> 2 -> final: 5 + 2 + 1 tasks per row block
    assert len(layers[rname]) == 6 * 8
    deps = out.__dask_graph__().get_all_dependencies()
    xkeys = {k for k in deps if isinstance(k, tuple) and k[0] == Xd.name}
    ykeys = {k for k in deps if isinstance(k, tuple) and k[0] == Yd.name}
    kname = next(k for k in layers[pname] if not isinstance(k, tuple))
    for key in pairs:
        d = deps[key]
        # one block of X, one of Y, one of W and the kernel: nothing gathered
        assert len(d & xkeys) == 1 and len(d & ykeys) == 1 and kname in d
        assert len(d) == 4
    for key in layers[rname]:
        assert 1 <= len(deps[key]) <= 4
        assert not deps[key] & (xkeys | ykeys)
    assert out.chunks == (Xd.chunks[0], (3,))
    with dask.config.set(scheduler="sync"):
        np.testing.assert_allclose(out.compute(), kernel_sum(KERNEL, X, Y, W),
                                   rtol=1e-12)  # fmt: skip


def test_estimator_state_is_one_key_of_the_graph(sync):
    from kernlearn.kernel_approximation import Nystroem

    nys = Nystroem(Gaussian(2.0), n_components=15, random_state=0).fit(X)
    Xd = da.from_array(X, chunks=(25, 5))
    Z = nys.transform(Xd)
    layers = _pairs_and_reduction(Z)
    (tasks,) = layers.values()
    states = [k for k in tasks if not isinstance(k, tuple)]
    assert len(states) == 1 and tasks[states[0]] is nys
    deps = Z.__dask_graph__().get_all_dependencies()
    blocks = [k for k in tasks if isinstance(k, tuple)]
    assert len(blocks) == len(Xd.chunks[0])
    assert all(states[0] in deps[k] for k in blocks)
    np.testing.assert_allclose(Z.compute(), nys.transform(X), rtol=1e-12)


class UnpickleCounter:
    """Fitted state that counts, per process, how often it is unpickled."""

    count = 0

    def __init__(self, payload):
        self.payload = payload

    def __reduce__(self):
        return (_rebuild_counter, (self.payload,))

    def first_column(self, A):
        return np.asarray(A)[:, 0] + self.payload[0]


def _rebuild_counter(payload):
    UnpickleCounter.count += 1
    return UnpickleCounter(payload)


def _unpickled():
    return UnpickleCounter.count


def test_state_travels_to_each_worker_once_not_per_task(client):
    client.run(lambda: setattr(UnpickleCounter, "count", 0))
    state = UnpickleCounter(np.full(100_000, 0.5))
    Xd = da.from_array(X, chunks=(8, 5))  # 13 row-block tasks
    with distributed.get_task_stream(client) as stream:
        out = map_row_blocks(state, "first_column", Xd).compute()
    np.testing.assert_array_equal(out, X[:, 0] + 0.5)
    ran = {}
    for t in stream.data:
        if "first_column" in str(t["key"]):
            ran[t["worker"]] = ran.get(t["worker"], 0) + 1
    assert sum(ran.values()) == 13 and max(ran.values()) >= 4
    counts = client.run(_unpickled)
    for worker in ran:
        assert counts[worker] == 1, (counts, ran)  # not once per task


# ------------------------------------------------- configuration on the workers
class ConfigProbe:
    """A kernel without an engine spec whose values report the configuration
    (and numba's thread count) seen where a block is computed."""

    def __call__(self, A, B):
        import numba

        cfg = kernlearn.get_config()
        value = cfg["working_memory"] + (1000 if cfg["backend"] == "numpy" else 0)
        value += 1e6 * numba.get_num_threads()
        return np.full((len(A), len(B)), float(value))


def test_configuration_travels_to_the_workers(client):
    Xd = da.from_array(X, chunks=(30, 5))
    Yd = da.from_array(Y, chunks=(40, 5))
    with kernlearn.config_context(working_memory=37, backend="numpy"):
        lazy = kernel_sum(ConfigProbe(), Xd, Yd)
    out = lazy.compute()  # computed outside the context: the graph carries it
    np.testing.assert_array_equal(out, np.full(len(X), len(Y) * (37 + 1000 + 1e6)))


# ------------------------------------------------------------- killed worker
def test_killing_a_worker_mid_computation_still_gives_the_right_result():
    rng = np.random.default_rng(1)
    A = rng.normal(size=(6000, 8))
    B = rng.normal(size=(6000, 8))
    with local_cluster(logging.CRITICAL) as cluster, distributed.Client(cluster) as c:
        Ad = da.from_array(A, chunks=(500, 8))
        Bd = da.from_array(B, chunks=(1000, 8))
        lazy = kernel_sum(KERNEL, Ad, Bd, backend="numpy")  # 72 pair tasks
        pids = c.run(os.getpid)
        future = c.compute(lazy)
        t0 = time.monotonic()
        while time.monotonic() - t0 < 60:
            done = c.run_on_scheduler(
                lambda dask_scheduler: sum(
                    ts.state == "memory" and "pairs" in str(ts.key)
                    for ts in dask_scheduler.tasks.values()
                )
            )
            if done >= 6:
                break
            time.sleep(0.05)
        assert not future.done(), "the computation ended before a worker was killed"
        victim, pid = next(iter(pids.items()))
        os.kill(pid, signal.SIGKILL)
        out = future.result(timeout=240)
        assert victim not in c.scheduler_info()["workers"]
    np.testing.assert_allclose(out, kernel_sum(KERNEL, A, B, backend="numpy"),
                               rtol=1e-12)  # fmt: skip


# ---------------------------------------------------------------- estimators
def _rss_problem():
    from kernlearn.datasets import make_rss_fingerprints

    return make_rss_fingerprints(400, 12, n_queries=150, random_state=0)


def test_estimators_stay_lazy_and_agree_on_cluster(client):
    from kernlearn.density import KernelDensity
    from kernlearn.kernel_approximation import (
        Nystroem,
        PositiveRandomFeatures,
        RandomFourierFeatures,
    )
    from kernlearn.localization import FingerprintLocator
    from kernlearn.privacy import PrivateSimilaritySum, exact_similarity_sum

    Xd = da.from_array(X, chunks=(33, 5))
    kde = KernelDensity(bandwidth=0.9).fit(Y)
    kde_dask = KernelDensity(bandwidth=0.9, backend="dask").fit(Y)
    checks = [
        (kde.score_samples(Xd), kde.score_samples(X)),
        (kde_dask.score_samples(Xd), kde.score_samples(X)),  # no Dask inside Dask
        (kde.score(Xd), kde.score(X)),
    ]
    for est in (
        Nystroem(Gaussian(2.0), n_components=20, random_state=0),
        RandomFourierFeatures(n_components=16, random_state=0),
        PositiveRandomFeatures(n_components=16, random_state=0),
    ):
        est.fit(Y)
        checks.append((est.transform(Xd), est.transform(X)))
    box = np.clip(X / 4, -1, 1)
    priv = PrivateSimilaritySum(epsilon=1.0, bounds=(-1.0, 1.0), random_state=0).fit(
        np.clip(Y / 4, -1, 1)
    )
    checks.append((priv.mean_similarity(da.from_array(box, chunks=40)),
                   priv.mean_similarity(box)))  # fmt: skip
    checks.append((exact_similarity_sum(da.from_array(Y, chunks=30), X),
                   exact_similarity_sum(Y, X)))  # fmt: skip
    checks.append((exact_similarity_sum(Y, Xd, kernel="l1"),
                   exact_similarity_sum(Y, X, kernel="l1")))  # fmt: skip
    data = _rss_problem()
    loc = FingerprintLocator().fit(data.fingerprints, data.positions)
    Q = data.queries
    checks.append((loc.predict(da.from_array(Q, chunks=40)), loc.predict(Q)))
    lazies = [lazy for lazy, _ in checks]
    assert all(is_dask_array(lazy) for lazy in lazies)
    results = dask.compute(*lazies)
    for got, (_, ref) in zip(results, checks, strict=True):
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)


# -------------------------------------------------------------------- errors
def test_errors_are_clear(sync):
    Xd = da.from_array(X, chunks=(30, 5))
    with pytest.raises(ValueError, match="X must be a 2-D"):
        kernel_sum(KERNEL, Xd[:, 0], Y)
    with pytest.raises(ValueError, match="X has 5 features but Y has 4"):
        kernel_sum(KERNEL, Xd, Y[:, :4])
    with pytest.raises(ValueError, match="unknown chunk sizes.*compute_chunk_sizes"):
        kernel_sum(KERNEL, Xd[Xd[:, 0] > 0], Y)
    with pytest.raises(ValueError, match="X is empty"):
        kernel_sum(KERNEL, Xd[:0], Y)
    with pytest.raises(ValueError, match=r"k=0 is out of range"):
        kernel_topk(KERNEL, Xd, Y, k=0)
    with pytest.raises(ValueError, match=r"k=90 is out of range"):
        kernel_topk(KERNEL, Xd, Y, k=90)
    with pytest.raises(ValueError, match="weights has 10 rows but Y has 89"):
        kernel_sum(KERNEL, Xd, Y, da.ones(10))
    with pytest.raises(ValueError, match="backend must be one of"):
        kernel_sum(KERNEL, Xd, Y, backend="spark")
    with pytest.raises(ValueError, match="not real-valued"):
        kernel_sum(KERNEL, Xd.astype(complex), Y)
    with pytest.raises(TypeError, match="kernel must be a kernel object"):
        kernel_sum("rbf", Xd, Y)
    # values are checked where the block is computed, with the same words
    bad = X.copy()
    bad[57, 2] = np.nan
    lazy = kernel_sum(KERNEL, da.from_array(bad, chunks=(30, 5)), Y)
    with pytest.raises(ValueError, match="Input X contains NaN"):
        lazy.compute()
    lazy = kernel_logsumexp(KERNEL, Xd, Y, da.from_array(np.full(89, np.inf)))
    with pytest.raises(ValueError, match="log_weights contains NaN or \\+inf"):
        lazy.compute()
    from kernlearn.kernel_approximation import Nystroem

    nys = Nystroem(n_components=5, random_state=0).fit(X)
    with pytest.raises(ValueError, match="X has 4 features, but Nystroem"):
        nys.transform(da.from_array(X[:, :4]))
    with pytest.raises(TypeError, match="map_row_blocks takes a dask array"):
        map_row_blocks(nys, "transform", X)


def test_float32_and_integer_inputs(sync):
    Xi = da.from_array(np.round(X * 3).astype(np.int32), chunks=(40, 5))
    out = kernel_sum(KERNEL, Xi, np.round(Y * 3))
    assert out.dtype == np.float64
    np.testing.assert_allclose(
        out.compute(), kernel_sum(KERNEL, np.round(X * 3), np.round(Y * 3)), rtol=1e-12
    )
    X32 = da.from_array(X.astype(np.float32), chunks=(40, 5))
    assert kernel_sum(KERNEL, X32, Y.astype(np.float32)).dtype == np.float32
    assert kernel_sum(KERNEL, X32, Y).dtype == np.float64


def test_single_threaded_engines_inside_tasks():
    """The threaded scheduler: numba limited to one thread per task, and the
    thread count restored after."""
    import numba

    before = numba.get_num_threads()
    Xd = da.from_array(X, chunks=(30, 5))
    with dask.config.set(scheduler="threads"):
        out = kernel_sum(ConfigProbe(), Xd, Y).compute()
    assert set(np.unique(np.floor(out / len(Y) / 1e6))) == {1.0}
    assert numba.get_num_threads() == before


@pytest.mark.gpu
def test_cupy_blocks_run_on_the_gpu():
    cp = pytest.importorskip("cupy")
    try:
        cp.cuda.runtime.getDeviceCount()
    except Exception as exc:  # pragma: no cover - no device
        pytest.skip(f"no CUDA device: {exc}")
    Xd = da.from_array(cp.asarray(X), chunks=(30, 5))
    Yd = da.from_array(cp.asarray(Y), chunks=(40, 5))
    with dask.config.set(scheduler="sync"):
        out = kernel_sum(KERNEL, Xd, Yd).compute()
    assert type(out).__module__.startswith("cupy")
    np.testing.assert_allclose(cp.asnumpy(out), kernel_sum(KERNEL, X, Y), rtol=1e-10)
