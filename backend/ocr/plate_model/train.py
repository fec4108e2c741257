"""Train the plate recogniser on the CPU and write EasyOCR's custom-model files.

The pool mixes plates composed from scans of the real plate typeface (every layout in
use, TYPEFACE_SHARE of the crops) with plates set in the installed Korean fonts, all
through the same camera damage. Model selection uses a validation set in the real
typeface; the held-out sets that `ocr_eval` reports on are rendered from other seeds and
never seen here.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import shutil
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import yaml

from backend.ocr.plate_model.charset import CHARACTERS
from backend.ocr.plate_model.lines import recogniser_lines
from backend.ocr.plate_model.render import (
    IMG_H,
    Face,
    korean_faces,
    plate_crop,
    random_plate,
    split_faces,
    to_model_height,
    typeface_crop,
)
from backend.ocr.plate_model.typeface import LAYOUTS, TWO_LINE_LAYOUTS, random_text
from backend.ocr.plate_model.widen import can_embed, widen_state

MODELS_DIR = Path(__file__).resolve().parents[1] / "models" / "plate_ko"
NETWORK_NAME = "plate_ko"
DEFAULT_WIDTH = 64
TYPEFACE_SHARE = 0.6


def network_params(width: int) -> dict[str, int]:
    """The network's constructor arguments. The residual around the LSTMs adds the features
    to the LSTMs' output, so both are `width` wide."""
    return {"input_channel": 1, "output_channel": width, "hidden_size": width}


def model_width(directory: Path) -> int | None:
    """The width of the model in `directory`, from its yaml; None where there is none."""
    config_file = directory / "user_network" / f"{NETWORK_NAME}.yaml"
    if not config_file.is_file():
        return None
    config = yaml.safe_load(config_file.read_text("utf-8")) or {}
    return int(config["network_params"]["output_channel"])


def build_network(width: int, num_class: int = len(CHARACTERS) + 1) -> nn.Module:
    """The recogniser at `width`, freshly initialised (a class per character, and CTC's blank)."""
    return load_network_module().Model(num_class=num_class, **network_params(width))


def saved_state(directory: Path) -> dict[str, torch.Tensor]:
    """The weights of the model in `directory`, named as the network names them."""
    state = torch.load(directory / "model" / f"{NETWORK_NAME}.pth", map_location="cpu", weights_only=True)
    # write_model_files adds the "module." prefix EasyOCR expects; the network itself has none.
    return {key.removeprefix("module."): value for key, value in state.items()}


def load_network_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location(NETWORK_NAME, MODELS_DIR / "user_network" / f"{NETWORK_NAME}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sample_crop(
    rng: np.random.Generator, faces: list[Face], typeface_share: float, layout_weights: dict[str, float] | None = None
) -> tuple[np.ndarray, str, str]:
    """One training crop: (image at model height, its text, its layout or 'font').
    `layout_weights` draws some layouts more often than others (unnamed ones weigh 1)."""
    if rng.random() < typeface_share:
        layout = draw_layout(rng, layout_weights)
        text = random_text(layout, rng)
        # Every line the reader would try that holds the whole text: for a two-line plate the
        # cut at the detected gap and at the gap's usual heights, so the model reads them all.
        two_line = layout in TWO_LINE_LAYOUTS
        for _ in range(5):  # a two-line crop nothing cuts in two teaches nothing: cut another
            crop = typeface_crop(text, layout, rng, unfold=False)
            lines = recogniser_lines(crop, two_line=two_line)
            if not two_line or lines[0].shape[1] > crop.shape[1]:
                break
        return to_model_height(lines[int(rng.integers(len(lines)))]), text, layout
    text = random_plate(rng)
    return to_model_height(plate_crop(text, faces[int(rng.integers(len(faces)))], rng)), text, "font"


def draw_layout(rng: np.random.Generator, layout_weights: dict[str, float] | None) -> str:
    """A plate layout, every one equally likely unless weighted (unnamed layouts weigh 1)."""
    if not layout_weights:
        return LAYOUTS[int(rng.integers(len(LAYOUTS)))]
    weights = np.array([layout_weights.get(layout, 1.0) for layout in LAYOUTS])
    return LAYOUTS[int(rng.choice(len(LAYOUTS), p=weights / weights.sum()))]


def _render_chunk(
    args: tuple[int, int, list[Face], float, dict[str, float] | None],
) -> tuple[list[np.ndarray], list[str]]:
    seed, count, faces, typeface_share, layout_weights = args
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for _ in range(count):
        image, text, _ = sample_crop(rng, faces, typeface_share, layout_weights)
        images.append(image)
        labels.append(text)
    return images, labels


def render_pool(
    count: int,
    faces: list[Face],
    seed: int,
    processes: int = 2,
    typeface_share: float = TYPEFACE_SHARE,
    layout_weights: dict[str, float] | None = None,
) -> tuple[list[np.ndarray], list[str]]:
    chunk = 2000
    jobs = [
        (seed * 1_000_003 + i, min(chunk, count - i * chunk), faces, typeface_share, layout_weights)
        for i in range(math.ceil(count / chunk))
    ]
    images: list[np.ndarray] = []
    labels: list[str] = []
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        for chunk_images, chunk_labels in pool.imap(_render_chunk, jobs):
            images += chunk_images
            labels += chunk_labels
    return images, labels


def batch_tensor(images: list[np.ndarray]) -> torch.Tensor:
    """[B, 1, IMG_H, W] in [-1, 1], right-padded by repeating the last column (EasyOCR's NormalizePAD)."""
    width = max(image.shape[1] for image in images)
    batch = np.empty((len(images), 1, IMG_H, width), np.float32)
    for index, image in enumerate(images):
        scaled = image.astype(np.float32) / 255.0
        batch[index, 0, :, : image.shape[1]] = scaled
        batch[index, 0, :, image.shape[1] :] = scaled[:, -1:]
    return torch.from_numpy((batch - 0.5) / 0.5)


def encode(labels: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    index = {ch: i + 1 for i, ch in enumerate(CHARACTERS)}
    targets = torch.tensor([index[ch] for label in labels for ch in label], dtype=torch.long)
    return targets, torch.tensor([len(label) for label in labels], dtype=torch.long)


def greedy_decode(logits: torch.Tensor) -> list[str]:
    best = logits.argmax(2).numpy()
    texts = []
    for row in best:
        chars, previous = [], 0
        for k in row:
            if k != previous and k != 0:
                chars.append(CHARACTERS[k - 1])
            previous = k
        texts.append("".join(chars))
    return texts


def accuracy(model: nn.Module, images: list[np.ndarray], labels: list[str]) -> float:
    model.eval()
    device = next(model.parameters()).device
    correct = 0
    with torch.no_grad():
        for start in range(0, len(images), 128):
            predicted = greedy_decode(model(batch_tensor(images[start : start + 128]).to(device)).cpu())
            correct += sum(p == t for p, t in zip(predicted, labels[start : start + 128], strict=True))
    model.train()
    return correct / max(1, len(images))


def write_model_files(model: nn.Module, out: Path, width: int) -> None:
    (out / "model").mkdir(parents=True, exist_ok=True)
    (out / "user_network").mkdir(parents=True, exist_ok=True)
    # EasyOCR's CPU loader strips 7 characters from every key: DataParallel's "module." prefix.
    state = {f"module.{key}": value.detach().cpu() for key, value in model.state_dict().items()}
    torch.save(state, out / "model" / f"{NETWORK_NAME}.pth")
    source = MODELS_DIR / "user_network" / f"{NETWORK_NAME}.py"
    if source.resolve() != (out / "user_network" / f"{NETWORK_NAME}.py").resolve():
        shutil.copy(source, out / "user_network" / f"{NETWORK_NAME}.py")
    config = {"network_params": network_params(width), "imgH": IMG_H, "lang_list": ["ko"], "character_list": CHARACTERS}
    (out / "user_network" / f"{NETWORK_NAME}.yaml").write_text(
        yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )


def _load_compatible(model: nn.Module, directory: Path, log) -> None:
    """Start from earlier weights where the shapes agree (all but the output layer when
    the alphabet grew): the features learnt on one alphabet carry over to the next. A
    narrower model's weights are embedded in a wider one so that it reads as they did."""
    state = saved_state(directory)
    own = model.state_dict()
    model.load_state_dict(widen_state(state, own))
    copied = sum(key in state and state[key].shape == value.shape for key, value in own.items())
    embedded = sum(key in state and can_embed(key, state[key].shape, value.shape) for key, value in own.items())
    log(f"started from {directory}: {copied} of {len(own)} tensors copied, {embedded} embedded in wider ones")


def _plot_curve(curve: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, loss_axis = plt.subplots(figsize=(7, 4))
    minutes = [point["minutes"] for point in curve]
    loss_axis.plot(minutes, [point["loss"] for point in curve], color="tab:red", label="CTC loss (batch mean)")
    loss_axis.set_xlabel("minutes")
    loss_axis.set_ylabel("loss")
    exact_axis = loss_axis.twinx()
    exact_axis.plot(minutes, [point["val_exact"] for point in curve], color="tab:blue", label="validation exact")
    exact_axis.set_ylabel("exact match (real typeface)")
    exact_axis.set_ylim(0, 1)
    figure.legend(loc="center right", bbox_to_anchor=(0.86, 0.5))
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def train(
    *,
    minutes: float,
    pool: int,
    seed: int,
    out: Path,
    threads: int = 2,
    resume: bool = False,
    init_from: Path | None = None,
    width: int | None = None,
    device: str = "cpu",
    batch_size: int = 48,
    lr: float = 2e-3,
    typeface_share: float = TYPEFACE_SHARE,
    layout_weights: dict[str, float] | None = None,
    report_every_s: float = 120,
    log=print,
) -> dict:
    """Render, train for `minutes`, keep the weights that did best on the validation set,
    write the model files, training.json and training-curve.png. `resume` starts from the
    weights in `out` (a further run with a lower `lr` refines a shipped model); `init_from`
    from another model's compatible layers. `width` widens the network (by default that of
    the model it starts from); a wider one starts reading exactly as the narrower did.
    `device` is where the network trains ("cuda" on a GPU machine, with a larger
    `batch_size`); the pool is rendered on the CPU either way."""
    from tqdm import tqdm

    start = out if resume else init_from
    start_width = model_width(start) if start is not None else None
    width = width or start_width or DEFAULT_WIDTH
    if start_width and width < start_width:
        raise SystemExit(
            f"--width {width} is narrower than the model it starts from ({start_width}): widen, never narrow"
        )
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit(f"--device {device}: torch sees no CUDA device on this machine; train with --device cpu")
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    train_faces, held_out_faces = split_faces(korean_faces())
    if not train_faces or not held_out_faces:
        raise SystemExit(
            "Korean fonts missing: apt install fonts-nanum fonts-nanum-extra fonts-unfonts-core "
            "fonts-baekmuk fonts-noto-cjk"
        )
    started = time.monotonic()
    processes = max(2, os.cpu_count() or 2)  # the chunks are seeded by index: the pool is the same on any machine
    images, labels = render_pool(
        pool, train_faces, seed, processes, typeface_share=typeface_share, layout_weights=layout_weights
    )
    val_images, val_labels = render_pool(600, train_faces, seed + 1, processes, typeface_share=1.0)
    held_images, held_labels = render_pool(500, held_out_faces, seed + 2, processes, typeface_share=0.0)
    rendered_s = time.monotonic() - started
    log(f"rendered {len(images)} training crops ({typeface_share:.0%} real typeface) in {rendered_s:.0f} s")

    model = build_network(width)
    if start is not None:
        _load_compatible(model, start, log)
    model.to(device)
    criterion = nn.CTCLoss(blank=0, zero_infinity=True)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    budget_s = minutes * 60
    rng = np.random.default_rng(seed)
    seen, curve = 0, []
    best_exact, best_state = -1.0, None
    train_started = last_report = time.monotonic()
    model.train()
    progress = tqdm(total=round(budget_s), unit="s", desc="training", mininterval=5)
    while (elapsed := time.monotonic() - train_started) < budget_s:
        for group in optimiser.param_groups:  # cosine decay over the time budget
            group["lr"] = lr * 0.05 + lr * 0.95 * 0.5 * (1 + math.cos(math.pi * elapsed / budget_s))
        picks = rng.integers(len(images), size=batch_size)
        inputs = batch_tensor([images[i] for i in picks]).to(device)
        targets, target_lengths = encode([labels[i] for i in picks])
        targets = targets.to(device)
        logits = model(inputs)
        log_probs = logits.log_softmax(2).permute(1, 0, 2)  # [T, B, C]
        input_lengths = torch.full((batch_size,), log_probs.shape[0], dtype=torch.long)
        loss = criterion(log_probs, targets, input_lengths, target_lengths)
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimiser.step()
        seen += batch_size
        progress.n = min(round(budget_s), round(time.monotonic() - train_started))
        progress.set_postfix(loss=f"{loss.item():.3f}", best=f"{max(best_exact, 0):.3f}", refresh=False)
        progress.update(0)
        if time.monotonic() - last_report > report_every_s:
            last_report = time.monotonic()
            point = {
                "minutes": round((last_report - train_started) / 60, 1),
                "samples": seen,
                "loss": round(loss.item(), 3),
                "val_exact": accuracy(model, val_images, val_labels),
            }
            curve.append(point)
            progress.write(json.dumps(point))
            if point["val_exact"] > best_exact:  # a usable checkpoint at every improvement
                best_exact, best_state = point["val_exact"], {k: v.clone() for k, v in model.state_dict().items()}
                write_model_files(model, out, width)
    progress.close()
    val_exact = accuracy(model, val_images, val_labels)
    if best_state is not None and best_exact > val_exact:
        model.load_state_dict(best_state)
        val_exact = best_exact
    previous = json.loads((out / "training.json").read_text()) if resume and (out / "training.json").exists() else {}
    result = {
        "minutes": minutes + previous.get("minutes", 0),  # all runs together
        "runs": [
            *previous.get("runs", []),
            {
                "minutes": minutes,
                "seed": seed,
                "lr": lr,
                "typeface_share": typeface_share,
                **({"layout_weights": layout_weights} if layout_weights else {}),
                "resumed": resume,
                "init_from": str(init_from or ""),
                "width": width,
                "device": device,
                "batch_size": batch_size,
            },
        ],
        "samples": seen,
        "typeface_share": typeface_share,
        "layouts": list(LAYOUTS),
        "train_faces": sorted({f.family for f in train_faces}),
        "held_out_faces": sorted({f.family for f in held_out_faces}),
        "val_exact": val_exact,
        "held_out_fonts_exact": accuracy(model, held_images, held_labels),
        "curve": curve,
        "wall_s": round(time.monotonic() - started),
    }
    write_model_files(model, out, width)
    (out / "training.json").write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    if curve:
        _plot_curve(curve, out / "training-curve.png")
    log(json.dumps({k: v for k, v in result.items() if k != "curve"}, ensure_ascii=False))
    return result
