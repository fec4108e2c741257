"""SpeedCam edge: the Raspberry Pi side. Never imports Django."""
