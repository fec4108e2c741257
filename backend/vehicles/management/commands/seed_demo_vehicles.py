from django.core.management.base import BaseCommand

from backend.vehicles.models import Vehicle

DEMO_VEHICLES = (
    # plate, owner, phone, FCM token (None: the owner has not installed the app)
    ("12가3456", "홍길동", "010-1234-5678", "demo-fcm-token-hong-0001"),
    ("34나5678", "김영희", "010-2345-6789", "demo-fcm-token-kim-0002"),
    ("123다4567", "이철수", "010-3456-7890", None),
    # Two plates one digit apart: a read between them (56라7891) is ambiguous and goes to review.
    ("56라7890", "박민수", "010-4567-8901", "demo-fcm-token-park-0004"),
    ("56라7892", "정수진", "010-5678-9012", "demo-fcm-token-jung-0005"),
)


class Command(BaseCommand):
    help = "Register the demo vehicles used by ./scripts/up.sh (idempotent)."

    def handle(self, *args: object, **options: object) -> None:
        for plate, owner, phone, token in DEMO_VEHICLES:
            _, created = Vehicle.objects.update_or_create(
                plate_number=plate, defaults={"owner_name": owner, "owner_phone": phone, "fcm_token": token}
            )
            self.stdout.write(f"{'registered' if created else 'updated'} {plate} ({owner})")
