import eigenlake


def test_build_info_reports_simd_and_threads() -> None:
    info = eigenlake.build_info()
    assert info["simd"] in {"scalar", "avx2", "avx512", "neon"}
    assert info["num_threads"] >= 1


def test_set_num_threads_round_trip() -> None:
    from eigenlake import _core

    before = _core.num_threads()
    eigenlake.set_num_threads(1)
    assert _core.num_threads() == 1
    eigenlake.set_num_threads(before)
    assert _core.num_threads() == before
