"""The public API is what `livevent.__all__` says, sorted, and every name resolves."""

import livevent


def test_all_is_sorted_and_complete() -> None:
    names = livevent.__all__
    assert names == sorted(names)
    for name in names:
        assert getattr(livevent, name) is not None
    public = {
        name
        for name, value in vars(livevent).items()
        if not name.startswith("_") and getattr(value, "__module__", "").startswith("livevent")
    }
    assert public <= set(names)
