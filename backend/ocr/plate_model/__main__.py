from __future__ import annotations

import argparse
import sys
from pathlib import Path

from backend.ocr.plate_model.train import MODELS_DIR, train


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
    run.add_argument("--lr", type=float, default=2e-3, help="peak learning rate (cosine decay)")
    held_out = commands.add_parser("heldout", help="write an evaluation set in faces training never sees")
    held_out.add_argument("--out", type=Path, required=True)
    held_out.add_argument("--crops", type=int, default=100, help="plate crops (as a localiser cuts them)")
    held_out.add_argument("--scenes", type=int, default=0, help="full 1280x720 road snapshots")
    held_out.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    if args.command == "heldout":
        write_held_out_set(args.out, crops=args.crops, scenes=args.scenes, seed=args.seed)
        return 0
    train(
        minutes=args.minutes,
        pool=args.pool,
        seed=args.seed,
        out=args.out,
        threads=args.threads,
        resume=args.resume,
        lr=args.lr,
        log=lambda line: print(line, flush=True),
    )
    return 0


def write_held_out_set(out: Path, *, crops: int, scenes: int, seed: int) -> None:
    """Images plus labels.json ({filename: plate}), the input of `manage.py ocr_eval`."""
    import json

    import cv2
    import numpy as np

    from backend.ocr.plate_model.render import korean_faces, plate_crop, random_plate, split_faces
    from backend.ocr.plate_model.scenes import road_scene

    _, faces = split_faces(korean_faces())
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    labels = {}
    for index in range(crops):
        text = random_plate(rng)
        crop = plate_crop(text, faces[index % len(faces)], rng)
        name = f"crop-{index:04d}.png"
        cv2.imwrite(str(out / name), crop)
        labels[name] = text
    boxes = {}
    for index in range(scenes):
        text = random_plate(rng)
        image, box = road_scene(text, faces[index % len(faces)], rng)
        name = f"scene-{index:04d}.jpg"
        (out / name).write_bytes(image)
        labels[name] = text
        boxes[name] = list(box)
    (out / "labels.json").write_text(json.dumps(labels, ensure_ascii=False, indent=1), encoding="utf-8")
    if boxes:  # where each plate really is, for localisation tests
        (out / "boxes.json").write_text(json.dumps(boxes, indent=1), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
