"""The training pipeline end to end in miniature: render, train, write EasyOCR's files, load them."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch

from backend.ocr.plate_model.__main__ import main as plate_model_cli
from backend.ocr.plate_model.charset import CHARACTERS
from backend.ocr.plate_model.render import korean_faces, split_faces
from backend.ocr.plate_model.train import (
    MODELS_DIR,
    build_network,
    draw_layout,
    model_width,
    saved_state,
    train,
)
from backend.ocr.plate_model.typeface import LAYOUTS
from backend.ocr.plate_model.widen import widen_state

pytestmark = pytest.mark.standalone  # no service, database or role process: see scripts/test.sh


def test_faces_are_split_into_training_and_held_out() -> None:
    training, held_out = split_faces(korean_faces())
    assert training and held_out
    assert not {f.family for f in training} & {f.family for f in held_out}


def test_a_layout_weight_draws_that_layout_more_often_and_the_rest_equally() -> None:
    rng = np.random.default_rng(5)
    drawn = Counter(draw_layout(rng, {"green-2line": 2.0}) for _ in range(12_000))
    assert set(drawn) == set(LAYOUTS)
    assert drawn["green-2line"] / 12_000 == pytest.approx(2 / 6, abs=0.02)
    assert drawn["white-7"] / 12_000 == pytest.approx(1 / 6, abs=0.02)
    unweighted = Counter(draw_layout(rng, None) for _ in range(5_000))
    assert all(count / 5_000 == pytest.approx(1 / 5, abs=0.03) for count in unweighted.values())


@pytest.mark.parametrize("bad", ["green-3line=2", "green-2line=much", "green-2line=0", "green-2line"])
def test_a_bad_layout_weight_is_refused_before_anything_renders(bad: str, capsys) -> None:
    with pytest.raises(SystemExit) as refused:
        plate_model_cli(["train", "--layout-weight", bad, "--minutes", "0"])
    assert refused.value.code == 2
    assert "--layout-weight" in capsys.readouterr().err


@pytest.mark.parametrize(
    "option, bad",
    [
        *[("--width", bad) for bad in ("0", "100", "wide", "1024")],
        *[("--device", bad) for bad in ("gpu", "cuda:x")],
        *[("--batch-size", bad) for bad in ("0", "-8")],
    ],
)
def test_a_bad_training_option_is_refused_before_anything_renders(option: str, bad: str, capsys) -> None:
    with pytest.raises(SystemExit) as refused:
        plate_model_cli(["train", option, bad, "--minutes", "0"])
    assert refused.value.code == 2
    assert option in capsys.readouterr().err


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_without_a_gpu_is_refused_before_anything_renders(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="no CUDA device"):
        train(minutes=0, pool=10, seed=1, out=tmp_path, device="cuda")


def test_a_model_is_widened_never_narrowed(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="narrower than the model it starts from"):
        train(minutes=0, pool=10, seed=1, out=tmp_path, init_from=MODELS_DIR, width=32)


@pytest.mark.timeout(300)
def test_a_short_run_writes_model_files_that_easyocr_loads_offline(tmp_path: Path) -> None:
    import easyocr

    result = train(minutes=0.1, pool=300, seed=3, out=tmp_path, report_every_s=2, log=lambda line: None)
    assert (tmp_path / "model" / "plate_ko.pth").is_file() and (tmp_path / "training.json").is_file()
    assert result["held_out_faces"] and 0 <= result["held_out_fonts_exact"] <= 1 and 0 <= result["val_exact"] <= 1
    assert result["layouts"] == ["white-7", "white-8", "green-1line", "green-2line", "yellow-2line"]
    assert (tmp_path / "training-curve.png").read_bytes()[:4] == b"\x89PNG"  # the curve, next to the log
    assert model_width(tmp_path) == 64  # no model to start from: the default width
    reader = easyocr.Reader(
        ["ko"],
        gpu=False,
        model_storage_directory=str(tmp_path / "model"),
        user_network_directory=str(tmp_path / "user_network"),
        recog_network="plate_ko",
        detector=False,
        download_enabled=False,
        quantize=False,
        verbose=False,
    )
    assert reader.character == CHARACTERS


def test_a_wider_network_starts_out_reading_exactly_as_the_narrower_one_it_grew_from() -> None:
    narrow = build_network(64)
    narrow.load_state_dict(saved_state(MODELS_DIR))
    wide = build_network(96)
    untrained = {key: value.clone() for key, value in wide.state_dict().items()}
    wide.load_state_dict(widen_state(narrow.state_dict(), wide.state_dict()))
    narrow.eval(), wide.eval()
    lines = torch.rand(4, 1, 32, 140) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(wide(lines), narrow(lines), atol=1e-5)
    new_units = wide.state_dict()["SequenceModeling.0.rnn.weight_ih_l0"][64:96]  # the input gate's new rows
    assert new_units.abs().sum() > 0 and new_units.equal(untrained["SequenceModeling.0.rnn.weight_ih_l0"][64:96])


def test_an_output_layer_for_another_alphabet_keeps_its_initialisation() -> None:
    old_alphabet = build_network(64, num_class=40).state_dict()
    grown = build_network(96).state_dict()
    widened = widen_state(old_alphabet, grown)
    assert widened["Prediction.weight"].equal(grown["Prediction.weight"])  # row k is another character now
    assert widened["FeatureExtraction.0.weight"][:8].equal(old_alphabet["FeatureExtraction.0.weight"])
