from prometheus_client import Counter, Histogram

# result: exact, fuzzy, ambiguous, near_miss (a near registered plate refused), unmatched, no_plate
READS = Counter("speedcam_ocr_reads_total", "Plate reads by result", ["result"])
# Completed reads held for a person (no push until reviewed), by the read's result (an
# exact or fuzzy result here means its confidence was too low).
REVIEWS = Counter("speedcam_ocr_reviews_total", "Plate reads sent to review, by read result", ["result"])
DETECTED_TO_READ_SECONDS = Histogram(
    "speedcam_ocr_detected_to_read_seconds",
    "From the camera's detection time to the completed plate read",
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900),
)
