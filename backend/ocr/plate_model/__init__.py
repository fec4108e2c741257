"""The Korean licence-plate recogniser SpeedCam trains and ships (no Django here).

    python -m backend.ocr.plate_model train [--minutes 40] [--pool 100000] [--seed 1]
    python -m backend.ocr.plate_model heldout --out DIR [--count 200]

`train` renders a pool of synthetic plate crops, trains the CRNN in
backend/ocr/models/plate_ko/user_network/plate_ko.py with CTC on the CPU, evaluates on
plates set in typefaces it never saw, and writes EasyOCR's custom-model files:
model/plate_ko.pth, user_network/plate_ko.{py,yaml}.
"""
