"""The project's harness: the real backing services (scripts/services.sh), the role
processes started from their entry scripts, and a stream of realistic detections.

Tests (through fixtures), benchmarks (scripts/bench) and drills (scripts/drills) all run
the system through it; it imports the backend, never the tests.
"""
