"""Offline STAC validation: pystac's bundled core schemas plus the extension schemas vendored in tests/data.

pystac fetches extension schemas from their URLs; :func:`offline_validator` answers those URLs from
``tests/data/stac-schemas/`` and refuses any other network fetch, so a test never depends on the network.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SCHEMA_DIR = Path(__file__).parent / "data" / "stac-schemas"
#: Extension schema URL -> vendored file.
VENDORED = {
    "https://stac-extensions.github.io/projection/v2.0.0/schema.json": "projection-v2.0.0.json",
    "https://stac-extensions.github.io/raster/v1.1.0/schema.json": "raster-v1.1.0.json",
}


def offline_validator() -> Any:
    """A pystac JSON-schema validator whose schema cache holds the vendored extension schemas and fetches nothing."""
    from pystac.validation import JsonSchemaSTACValidator

    class Offline(JsonSchemaSTACValidator):
        def _get_schema(self, schema_uri: str) -> dict[str, Any]:
            if schema_uri not in self.schema_cache:
                raise AssertionError(f"schema {schema_uri} is neither bundled by pystac nor vendored in {SCHEMA_DIR}")
            return self.schema_cache[schema_uri]

    validator = Offline()
    for url, name in VENDORED.items():
        validator.schema_cache[url] = json.loads((SCHEMA_DIR / name).read_text())
    return validator


def validate_folder(folder: Path) -> list[Any]:
    """Validate ``folder/collection.json`` and every Item it links, offline; return the Items (pystac objects).

    Also checks that the links resolve: each Item is read through the Collection's ``item`` links, its ``self``,
    ``root``, ``parent`` and ``collection`` links lead back to the Collection, and every asset href is relative
    and names an existing file.
    """
    import pystac
    from pystac.validation import RegisteredValidator, set_validator

    previous = RegisteredValidator.get_validator()
    set_validator(offline_validator())
    try:
        collection_path = folder / "collection.json"
        collection = pystac.Collection.from_file(str(collection_path))
        collection.validate()
        items = list(collection.get_items())
        for item in items:
            item.validate()
            item_path = Path(item.get_self_href())
            data = json.loads(item_path.read_text())
            assert data["collection"] == collection.id
            links = {link["rel"]: link["href"] for link in data["links"]}
            assert links["self"] == f"./{item_path.name}"
            for rel in ("root", "parent", "collection"):
                assert not Path(links[rel]).is_absolute()
                assert (item_path.parent / links[rel]).resolve() == collection_path.resolve(), rel
            for key, asset in data["assets"].items():
                assert not Path(asset["href"]).is_absolute() and "://" not in asset["href"], key
                assert (item_path.parent / asset["href"]).exists(), (key, asset["href"])
        return items
    finally:
        set_validator(previous)
