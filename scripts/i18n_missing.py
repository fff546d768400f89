"""List the web UI strings a language's catalogue lacks, as .po entries ready to translate.

    .venv/bin/python scripts/i18n_missing.py fr >> src/crvshub/web/locale/fr/messages.po
"""

from __future__ import annotations

import sys

from crvshub.web import i18n


def main() -> int:
    """Print the missing entries of the language named on the command line."""
    if len(sys.argv) != 2 or sys.argv[1] not in i18n.LANGUAGES:
        print(f"usage: i18n_missing.py LANGUAGE   (one of {', '.join(i18n.LANGUAGES)})",
              file=sys.stderr)
        return 2
    missing = i18n.missing_translations(sys.argv[1])
    for message, where in sorted(missing.items()):
        escaped = message.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        print(f"\n#: {' '.join(where[:3])}\nmsgid \"{escaped}\"\nmsgstr \"\"")
    print(f"{len(missing)} missing", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
