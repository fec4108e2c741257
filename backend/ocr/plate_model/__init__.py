"""The Korean licence-plate recogniser SpeedCam trains and ships (no Django here).

    python -m backend.ocr.plate_model train [--minutes 40] [--pool 80000] [--seed 1] [--resume]
    python -m backend.ocr.plate_model heldout --out DIR [--crops 100] [--scenes 20] [--seed 2026]
    python -m backend.ocr.plate_model snapshot --plate 12가3456 --layout white-7 --out F.jpg

`train` renders a pool of plate crops, most in the real plate typeface (typeface.py,
from the glyph scans in third_party/korean-plate-glyphs) and the rest in ordinary fonts,
trains the CRNN in backend/ocr/models/plate_ko/user_network/plate_ko.py with CTC on the
CPU, keeps the checkpoint that does best on a validation set in the real typeface, and
writes EasyOCR's custom-model files: model/plate_ko.pth, user_network/plate_ko.{py,yaml},
with training.json and training-curve.png beside them.
"""

HELD_OUT_SET_FILE = "set.json"  # beside a held-out set's labels.json: the command that wrote it
