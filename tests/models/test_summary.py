import pytest

from gconv.models import get_model, summary


def test_lenet5_table_against_hand_counts() -> None:
    table = summary(get_model("lenet5"), (1, 28, 28))
    rows = {row.name: row for row in table.rows}
    assert rows["conv.0"].output_shape == (1, 6, 28, 28)
    assert rows["conv.0"].params == 6 * 25 + 6
    assert rows["conv.0"].flops == 2 * 28 * 28 * 6 * 25  # a multiply-add is 2 FLOPs
    assert rows["fc.1"].flops == 2 * 400 * 120
    assert table.total_params == sum(p.numel() for p in get_model("lenet5").parameters())
    assert table.total_flops == sum(r.flops for r in table.rows if "." not in r.name)
    text = str(table)
    assert "conv.0" in text and "total parameters 61,706" in text


def test_depth_and_bad_input() -> None:
    model = get_model("resnet18", in_channels=1, num_classes=10, input_shape=(1, 28, 28))
    assert all("." not in r.name for r in summary(model, (1, 28, 28), depth=1).rows)
    with pytest.raises(ValueError, match="input_shape must be positive ints"):
        summary(model, (1, 0, 28))
    assert model.training  # summary leaves the mode as it was
    model.eval()
    summary(model, (1, 28, 28))
    assert not model.training
