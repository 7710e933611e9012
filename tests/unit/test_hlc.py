"""Property-based tests of the Hybrid Logical Clock: monotonic under any clock jumps, causal on receive."""

from hypothesis import given
from hypothesis import strategies as st

from kkt_adapter import hlc
from kkt_adapter.hlc import Timestamp

wall = st.integers(min_value=0, max_value=4_000_000_000_000)
events = st.lists(
    st.tuples(st.sampled_from(["tick", "recv"]), wall, wall, st.integers(0, 1000)), min_size=1, max_size=200
)


@given(events)
def test_strictly_monotonic_under_arbitrary_clock_jumps(script):
    last = hlc.ZERO
    for kind, physical, remote_wall, remote_logical in script:
        if kind == "tick":
            nxt = hlc.tick(last, physical)
        else:
            try:
                nxt = hlc.receive(last, Timestamp(remote_wall, remote_logical), physical)
            except hlc.ClockSkewError:
                continue
        assert nxt > last
        assert nxt.wall_ms >= physical  # never behind the physical clock it has seen
        last = nxt


@given(wall, st.integers(0, 10_000), wall, wall, st.integers(0, 10_000))
def test_receive_happens_after_the_remote_event(
    last_wall, last_logical, physical, remote_wall, remote_logical
):
    last = Timestamp(last_wall, last_logical)
    remote = Timestamp(remote_wall, remote_logical)
    try:
        got = hlc.receive(last, remote, physical)
    except hlc.ClockSkewError:
        assert remote_wall > max(physical, last_wall) + hlc.MAX_FORWARD_MS
        return
    assert got > remote
    assert got > last


@given(st.lists(wall, min_size=2, max_size=100))
def test_restart_from_persisted_state_keeps_order(physicals):
    # Persist after every tick (what the buffer does) and "restart" by re-reading the text form.
    stored = str(hlc.ZERO)
    seen = []
    for pt in physicals:
        ts = hlc.tick(Timestamp.parse(stored), pt)
        stored = str(ts)
        seen.append(ts)
    assert seen == sorted(seen)
    assert len(set(seen)) == len(seen)
    assert [str(t) for t in seen] == sorted(str(t) for t in seen)


def test_backward_jump_bumps_logical_counter():
    a = hlc.tick(hlc.ZERO, 10_000)
    b = hlc.tick(a, 5_000)  # wall clock jumped back 5 s
    assert b == Timestamp(10_000, 1)
    c = hlc.tick(b, 10_001)
    assert c == Timestamp(10_001, 0)


def test_far_future_remote_is_refused():
    last = Timestamp(1_000, 0)
    try:
        hlc.receive(last, Timestamp(1_000 + hlc.MAX_FORWARD_MS + 10, 0), 1_000)
    except hlc.ClockSkewError:
        return
    raise AssertionError("a remote timestamp a day ahead must be refused")


def test_drift_is_zero_when_clock_is_sane_and_positive_when_hlc_runs_ahead():
    assert hlc.drift_seconds(Timestamp(1_000, 3), 2_000) == 0
    assert hlc.drift_seconds(Timestamp(5_000, 0), 2_000) == 3.0
