#!/usr/bin/env bash
# Install the SpeedCam roadside unit on Raspberry Pi OS (bookworm or trixie), as root:
#   sudo edge/deploy/install-pi.sh            (from a checkout of this repository)
# Then edit /etc/speedcam/cam.yaml and /etc/speedcam/edge.env and
#   sudo systemctl enable --now speedcam-edge
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "run as root (sudo)" >&2; exit 1; }
SOURCE="$(cd "$(dirname "$0")/../.." && pwd)"
TARGET=/opt/speedcam

# picamera2 and the numeric stack from apt, built for each other; chrony keeps the clock
# synchronised (the unit stamps no evidence until it is: see edge/clock.py).
apt-get update
apt-get install -y --no-install-recommends python3-venv python3-picamera2 python3-numpy python3-scipy \
  python3-simplejpeg chrony

id speedcam >/dev/null 2>&1 || useradd --system --home-dir "$TARGET" --groups video speedcam
mkdir -p "$TARGET"
cp -r "$SOURCE/edge" "$SOURCE/backend" "$SOURCE/requirements" "$TARGET/"
python3 -m venv --system-site-packages "$TARGET/.venv"
numpy_version="$(python3 -c 'import numpy; print(numpy.__version__)')"
constraints="$(mktemp)"
echo "numpy==$numpy_version" >"$constraints"
"$TARGET/.venv/bin/pip" install --no-cache-dir -r "$TARGET/requirements/edge-pi.txt" -c "$constraints"
rm -f "$constraints"
"$TARGET/.venv/bin/python" -c 'import picamera2, numpy, cv2, scipy; print("numpy", numpy.__version__, "opencv", cv2.__version__)'

# Configuration: readable by the unit only; the secrets file by nobody else at all.
install -d -m 750 -o root -g speedcam /etc/speedcam
[ -e /etc/speedcam/cam.yaml ] || install -m 640 -o root -g speedcam "$SOURCE/edge/deploy/cam.example.yaml" /etc/speedcam/cam.yaml
if [ ! -e /etc/speedcam/edge.env ]; then
  # Tracing is off until OTEL_EXPORTER_OTLP_ENDPOINT names the collector; a trace starts here,
  # so the share kept here is the share every role keeps.
  (umask 077 && printf '%s\n' 'SPEEDCAM_MQTT_PASSWORD=' 'GOOGLE_APPLICATION_CREDENTIALS=/etc/speedcam/gcs-writer.json' \
    'OTEL_EXPORTER_OTLP_ENDPOINT=' 'OTEL_TRACES_SAMPLER=parentbased_traceidratio' 'OTEL_TRACES_SAMPLER_ARG=0.1' \
    >/etc/speedcam/edge.env)
fi
chmod 600 /etc/speedcam/edge.env
chown root:root /etc/speedcam/edge.env
install -m 644 "$SOURCE/edge/deploy/speedcam-edge.service" /etc/systemd/system/speedcam-edge.service
systemctl daemon-reload
echo "installed in $TARGET; edit /etc/speedcam/cam.yaml and /etc/speedcam/edge.env (mode 600), then:"
echo "  systemctl enable --now speedcam-edge"
