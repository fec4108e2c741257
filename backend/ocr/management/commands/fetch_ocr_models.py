from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = (
        "Download EasyOCR's stock detector (craft_mlt_25k.pth) and Korean recogniser (korean_g2.pth) into "
        "OCR_STOCK_MODEL_DIR, for OCR_ENGINE=stock. Needs internet access; the worker never downloads."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dir", type=Path, default=settings.OCR_STOCK_MODEL_DIR)

    def handle(self, *args: object, dir: Path, **options: object) -> None:
        import easyocr

        dir.mkdir(parents=True, exist_ok=True)
        easyocr.Reader(["ko"], gpu=False, model_storage_directory=str(dir), download_enabled=True, verbose=True)
        self.stdout.write(f"EasyOCR stock models are in {dir}; run the OCR worker with OCR_ENGINE=stock")
