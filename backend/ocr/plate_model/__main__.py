from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from backend.contracts.plates import PLATE_EXAMPLES, normalise_plate
from backend.ocr.plate_model import HELD_OUT_SET_FILE
from backend.ocr.plate_model.train import MODELS_DIR, TYPEFACE_SHARE, train
from backend.ocr.plate_model.typeface import LAYOUTS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m backend.ocr.plate_model")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("train", help="train the plate recogniser and write the model files")
    run.add_argument("--minutes", type=float, default=40.0, help="training time budget (CPU)")
    run.add_argument("--pool", type=int, default=80_000, help="rendered training crops")
    run.add_argument("--seed", type=int, default=1)
    run.add_argument("--threads", type=int, default=2)
    run.add_argument("--out", type=Path, default=MODELS_DIR)
    run.add_argument("--resume", action="store_true", help="start from the weights already in --out")
    run.add_argument("--init-from", type=Path, help="start from a model directory's compatible layers")
    run.add_argument(
        "--width",
        type=_width,
        help="network width (default: the starting model's, else 64); a wider one embeds a narrower one's weights",
    )
    run.add_argument(
        "--device",
        type=_device,
        default="cpu",
        help="where the network trains: cpu, or cuda on a GPU machine (render stays on CPUs)",
    )
    run.add_argument("--batch-size", type=_batch_size, default=48, help="crops per step (a GPU wants several hundred)")
    run.add_argument("--lr", type=float, default=2e-3, help="peak learning rate (cosine decay)")
    run.add_argument(
        "--typeface-share", type=float, default=TYPEFACE_SHARE, help="share of crops in the real plate typeface"
    )
    run.add_argument(
        "--layout-weight",
        action="append",
        type=_layout_weight,
        default=[],
        metavar="LAYOUT=WEIGHT",
        help="draw a layout more (or less) often in the training pool; others weigh 1 (repeatable)",
    )
    held_out = commands.add_parser(
        "heldout", help="write an evaluation set from seeds training never uses (real typeface, held-out fonts)"
    )
    held_out.add_argument("--out", type=Path, required=True)
    held_out.add_argument("--crops", type=int, default=100, help="plate crops per layout (as a localiser cuts them)")
    held_out.add_argument("--scenes", type=int, default=0, help="full 1280x720 road snapshots per layout")
    held_out.add_argument("--font-crops", type=int, default=0, help="crops set in fonts training never sees")
    held_out.add_argument("--layout", action="append", choices=LAYOUTS, help="only these layouts (repeatable)")
    held_out.add_argument("--seed", type=int, default=2026)
    snapshot = commands.add_parser(
        "snapshot", help="write a 1280x720 road snapshot with a plate in the real typeface (demo, samples)"
    )
    snapshot.add_argument("--plate", required=True, help=f"e.g. {PLATE_EXAMPLES}")
    snapshot.add_argument("--layout", choices=LAYOUTS, default="white-7")
    snapshot.add_argument("--seed", type=int, default=1)
    snapshot.add_argument("--out", type=Path, required=True, help="the JPEG to write")
    args = parser.parse_args(argv)
    if args.command == "snapshot":
        return write_snapshot(args.out, plate=args.plate, layout=args.layout, seed=args.seed)
    if args.command == "heldout":
        write_held_out_set(
            args.out,
            crops=args.crops,
            scenes=args.scenes,
            font_crops=args.font_crops,
            layouts=tuple(args.layout or LAYOUTS),
            seed=args.seed,
        )
        return 0
    train(
        minutes=args.minutes,
        pool=args.pool,
        seed=args.seed,
        out=args.out,
        threads=args.threads,
        resume=args.resume,
        init_from=args.init_from,
        width=args.width,
        device=args.device,
        batch_size=args.batch_size,
        lr=args.lr,
        typeface_share=args.typeface_share,
        layout_weights=dict(args.layout_weight) or None,
        log=lambda line: print(line, flush=True),
    )
    return 0


def _device(value: str) -> str:
    if not re.fullmatch(r"cpu|cuda(:\d+)?", value):
        raise argparse.ArgumentTypeError(f"device must be cpu, cuda or cuda:N, got {value!r}")
    return value


def _batch_size(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 4096:
        raise argparse.ArgumentTypeError(f"batch size must be a whole number from 1 to 4096, got {value!r}")
    return int(value)


def _width(value: str) -> int:
    try:
        width = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"width must be a whole number, got {value!r}") from None
    if not (8 <= width <= 512 and width % 8 == 0):  # the first convolution has width / 8 channels
        raise argparse.ArgumentTypeError(f"width must be a multiple of 8 from 8 to 512, got {width}")
    return width


def _layout_weight(value: str) -> tuple[str, float]:
    layout, _, weight = value.partition("=")
    if layout not in LAYOUTS:
        raise argparse.ArgumentTypeError(f"unknown layout {layout!r}; one of {', '.join(LAYOUTS)}")
    try:
        number = float(weight)
    except ValueError:
        raise argparse.ArgumentTypeError(f"weight must be a number, got {weight!r}") from None
    if not 0 < number <= 10:
        raise argparse.ArgumentTypeError(f"weight must be in (0, 10], got {number}")
    return layout, number


def write_snapshot(out: Path, *, plate: str, layout: str, seed: int) -> int:
    """A road snapshot carrying `plate`; the plate also goes into the JPEG comment, which is
    all the OCR stand-in (OCR_MOCK=true) reads."""
    import io

    import numpy as np
    from PIL import Image

    from backend.ocr.plate_model.scenes import road_scene
    from backend.ocr.plate_model.typeface import render_typeface_plate

    if normalise_plate(plate) != plate:
        print(f"error: {plate!r} is not a Korean plate (e.g. {PLATE_EXAMPLES})", file=sys.stderr)
        return 2
    rng = np.random.default_rng(seed)
    image, _ = road_scene(render_typeface_plate(plate, layout, rng), rng)
    buffer = io.BytesIO()
    Image.open(io.BytesIO(image)).save(buffer, format="JPEG", quality=90, comment=plate.encode("utf-8"))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(buffer.getvalue())
    return 0


def write_held_out_set(
    out: Path, *, crops: int, scenes: int, font_crops: int = 0, layouts: tuple[str, ...] = LAYOUTS, seed: int
) -> None:
    """Images plus labels.json ({filename: plate}), the input of `manage.py ocr_eval`, and
    set.json, the command that writes the same set again. File names start with the layout
    (white-7-crop-0003.png), which ocr_eval reports by."""
    import json

    import cv2
    import numpy as np

    from backend.ocr.plate_model.render import korean_faces, plate_crop, random_plate, split_faces, typeface_crop
    from backend.ocr.plate_model.scenes import road_scene
    from backend.ocr.plate_model.typeface import random_text, render_typeface_plate

    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    labels, boxes = {}, {}
    for layout in layouts:
        for index in range(crops):
            text = random_text(layout, rng)
            name = f"{layout}-crop-{index:04d}.png"
            cv2.imwrite(str(out / name), typeface_crop(text, layout, rng, unfold=False))
            labels[name] = text
        for index in range(scenes):
            text = random_text(layout, rng)
            image, box = road_scene(render_typeface_plate(text, layout, rng), rng)
            name = f"{layout}-scene-{index:04d}.jpg"
            (out / name).write_bytes(image)
            labels[name] = text
            boxes[name] = list(box)
    if font_crops:
        _, faces = split_faces(korean_faces())
        for index in range(font_crops):
            text = random_plate(rng)
            name = f"font-crop-{index:04d}.png"
            cv2.imwrite(str(out / name), plate_crop(text, faces[index % len(faces)], rng, unfold=False))
            labels[name] = text
    (out / "labels.json").write_text(json.dumps(labels, ensure_ascii=False, indent=1), encoding="utf-8")
    # How to write this set again, for figures measured on it (ocr_eval's confusion pairs).
    options = f"--crops {crops} --scenes {scenes} --seed {seed}"
    options += f" --font-crops {font_crops}" if font_crops else ""
    options += "".join(f" --layout {layout}" for layout in layouts) if layouts != LAYOUTS else ""
    (out / HELD_OUT_SET_FILE).write_text(
        json.dumps({"command": f"python -m backend.ocr.plate_model heldout {options}"}, indent=1), encoding="utf-8"
    )
    if boxes:  # where each plate really is, for localisation tests
        (out / "boxes.json").write_text(json.dumps(boxes, indent=1), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
