"""Tell whether PostgreSQL and Redis answer; with CI=true a missing service is an error."""

import os
import socket
import sys

SERVICES = {"PostgreSQL": ("127.0.0.1", 5432), "Redis": ("127.0.0.1", 6379)}


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def main() -> int:
    missing = [name for name, address in SERVICES.items() if not reachable(*address)]
    if not missing:
        return 0
    in_ci = os.environ.get("CI", "").lower() == "true"
    print(
        f"{', '.join(missing)} not reachable on 127.0.0.1"
        + (": failing (CI=true)." if in_ci else ": skipping the PostgreSQL + Redis run."),
        file=sys.stderr,
    )
    return 1 if in_ci else 2


if __name__ == "__main__":
    sys.exit(main())
