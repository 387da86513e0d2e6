"""Every row of every task is built at the budget, and the rows are the ones named."""

import pytest
import torch

from gconv.compare import Protocol, get_rows, row_ids, row_width
from gconv.compare.protocol import count_parameters, row_model


@pytest.mark.parametrize("task", ["classification", "segmentation"])
def test_every_row_is_within_ten_percent_of_the_budget(task: str) -> None:
    protocol = Protocol.for_task(task)
    for row in get_rows(row_ids(task, extra=True), task):
        width = row_width(row, protocol)
        with torch.device("meta"):
            params = count_parameters(row_model(row, width, protocol))
        assert abs(params - protocol.budget) <= 0.1 * protocol.budget, (row.id, params)


def test_gcn_on_the_pixel_grid_is_kipfs_operator() -> None:
    # symmetric normalization with self loops, as on superpixels (where DeepGNN normalizes
    # each batch once with the same operator: tests/models/test_deep_gnn.py)
    from gconv.nn import GCNLayer

    (row,) = get_rows(["gcn/pixel_grid"])
    layers = [m for m in row_model(row, 8, Protocol()).modules() if isinstance(m, GCNLayer)]
    assert len(layers) == 4
    assert all(m.mode == "sym" and m.add_self_loops for m in layers)
