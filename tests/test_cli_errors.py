"""Every mistake on the command line is one ``gconv:`` line on stderr, exit status 2,
never a traceback, and is said before any data is loaded where it can be."""

import errno
from pathlib import Path

import pytest

from gconv.cli import main


def test_model_that_does_not_fit_the_data_is_one_line(capsys, small_root: Path) -> None:
    assert main(["train", "mutag", "lenet5", "--quick", "--root", str(small_root)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "gconv: cannot train lenet5 on mutag: lenet5 takes images [B, C, H, W]; "
        "dataset 'mutag' gives whole graphs (graph classification)"
    )
    assert main(["train", "mutag", "gin", "--folds", "1", "--root", str(small_root)]) == 2
    assert capsys.readouterr().err.strip() == "gconv: --folds must be >= 2 (got 1)"


def test_missing_data_message(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    from torchvision.datasets import MNIST

    def offline(self) -> None:
        raise OSError("no network")

    monkeypatch.setattr(MNIST, "download", offline)
    assert main(["train", "mnist", "lenet5", "--quick", "--root", str(tmp_path / "none")]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert "GCONV_DATA" in line and "mnist is not under" in line and len(line) < 300, line
    assert not (tmp_path / "none" / "MNIST").exists()  # no empty folders left behind


def _one_line_error(capsys, argv: list[str]) -> str:
    assert main(argv) != 0
    err = capsys.readouterr().err.strip()
    assert err.startswith("gconv: ") and "\n" not in err and "Traceback" not in err, err
    return err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "mutag", "gin", "--folds", "1"], "--folds must be >= 2"),
        (["train", "digits", "lenet5", "--quick"], "at least 12x12"),
        (["summary", "resnet18", "--input", "1,2"], "--input"),
        (["train", "cora", "gcn", "--epochs", "0"], "--epochs must be >= 1 (got 0)"),
        (["train", "cora", "gcn", "--epochs", "-3"], "--epochs must be >= 1 (got -3)"),
        (["train", "mutag", "gin", "--folds", "200"], "folds must be <= 63, the size of the"),
        (["train", "cora", "gcn", "--lr", "-1"], "lr must be a finite number > 0"),
        (["train", "cora", "gcn", "--batch-size", "0"], "--batch-size must be >= 1 (got 0)"),
        (["compare", "--epochs", "0"], "--epochs must be >= 1"),
        (["compare", "--rows", "cnn/pixels"], "--rows must be from"),
        (["compare", "--task", "segmentation", "--rows", "gin/pixels"], "--rows must be from"),
        (["train", "mnist_seg", "lenet5"], "dataset 'mnist_seg' gives images [B, C, H, W] with"),
        (["train", "mnist", "fcn"], "fcn takes images [B, C, H, W] with a class per pixel"),
    ],
)
def test_user_errors_are_one_line(capsys, small_root: Path, argv: list[str], message: str) -> None:
    assert message in _one_line_error(
        capsys, [*argv, "--root", str(small_root)] if argv[0] == "train" else argv
    )


def test_explain_with_a_missing_or_corrupt_checkpoint_is_one_line(tmp_path: Path, capsys) -> None:
    assert "no checkpoint file" in _one_line_error(
        capsys, ["explain", str(tmp_path / "none.pt"), "0", "--out", str(tmp_path / "maps")]
    )
    (tmp_path / "bad.pt").write_bytes(b"junk")
    assert "corrupt or truncated" in _one_line_error(
        capsys, ["explain", str(tmp_path / "bad.pt"), "0", "--out", str(tmp_path / "maps")]
    )


def test_a_root_that_is_a_file_is_one_line(tmp_path: Path, capsys) -> None:
    (tmp_path / "notes.txt").write_text("x")
    root = str(tmp_path / "notes.txt")
    assert "--root must be a folder (got the file" in _one_line_error(
        capsys, ["train", "cora", "gcn", "--quick", "--root", root]
    )


def test_train_into_a_file_is_one_line(tmp_path: Path, capsys, small_root: Path) -> None:
    (tmp_path / "file").write_text("x")
    out = str(tmp_path / "file")
    assert "must be a folder" in _one_line_error(
        capsys, ["train", "digits", "mlp", "--quick", "--out", out, "--root", str(small_root)]
    )


def test_a_bug_keeps_its_traceback_and_a_gconv_error_is_one_line(
    capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    from gconv.errors import GconvValueError

    cli = importlib.import_module("gconv.cli.main")  # the module, not its main()

    def buggy(args) -> None:
        raise ValueError("an internal invariant failed")  # not a gconv check: a bug

    def mistaken(args) -> None:
        raise GconvValueError("summary: --depth must be >= 0 (got -1)")

    monkeypatch.setitem(cli.COMMANDS, "summary", buggy)
    with pytest.raises(ValueError, match="internal invariant"):
        main(["summary", "lenet5"])
    monkeypatch.setitem(cli.COMMANDS, "summary", mistaken)
    assert _one_line_error(capsys, ["summary", "lenet5"]) == (
        "gconv: summary: --depth must be >= 0 (got -1)"
    )


def test_every_check_raises_a_gconv_error_that_is_still_the_standard_one() -> None:
    import gconv
    import gconv.train
    from gconv.errors import GconvError

    with pytest.raises(GconvError) as info:
        gconv.grid.conv_output_size(4, kernel_size=5)
    assert isinstance(info.value, ValueError)
    with pytest.raises(GconvError) as info:
        gconv.nn.GridConv2d(1, 1, kernel_size="3")  # type: ignore[arg-type]
    assert isinstance(info.value, TypeError)
    with pytest.raises(GconvError) as info:
        gconv.train.load_checkpoint("/nonexistent/gconv/best.pt")
    assert isinstance(info.value, FileNotFoundError)


def test_an_out_folder_that_cannot_be_made_is_one_line(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: Path, *args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", str(self))

    monkeypatch.setattr(Path, "mkdir", refuse)  # a read-only place, even for root
    out = str(tmp_path / "run")
    err = _one_line_error(capsys, ["train", "cora", "gcn", "--quick", "--out", out])
    assert err == f"gconv: --out must be a folder gconv can make (got {out!r}: Permission denied)"


def test_a_flag_mistake_comes_before_loading_the_data(tmp_path: Path, capsys) -> None:
    # no MNIST under this root: the flag is still the first thing said
    argv = ["train", "mnist", "lenet5", "--batch-size", "-1", "--root", str(tmp_path)]
    assert _one_line_error(capsys, argv) == "gconv: --batch-size must be >= 1 (got -1)"
