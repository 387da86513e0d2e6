import pytest
import torch

from gconv._checks import _ranges, check_edge_index


def test_edge_range_is_read_once_per_tensor_and_sees_in_place_edits(monkeypatch) -> None:
    edge_index = torch.tensor([[0, 1], [1, 2]])
    calls = []
    original = torch.Tensor.aminmax
    monkeypatch.setattr(
        torch.Tensor, "aminmax", lambda self, *a, **k: calls.append(1) or original(self, *a, **k)
    )
    for _ in range(3):  # three layers (or epochs) on one graph: one reduction
        check_edge_index("t", edge_index, 3)
    assert len(calls) == 1 and edge_index in _ranges
    with pytest.raises(ValueError, match="node id 2, out of range for 2 nodes"):
        check_edge_index("t", edge_index, 2)  # answered from the remembered range
    assert len(calls) == 1
    edge_index[1, 1] = 7
    with pytest.raises(ValueError, match="node id 7"):
        check_edge_index("t", edge_index, 3)
    assert len(calls) == 2
