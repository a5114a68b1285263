"""Response bodies as Exact sends them: verbose JSON when asked for, Atom/XML otherwise, and the error envelope."""
import json
import xml.etree.ElementTree as ET
from datetime import datetime
from datetime import timezone

from flask import Response
from flask import request

JSON_TYPE = "application/json; charset=utf-8"
ATOM_TYPE = "application/atom+xml;type=feed;charset=utf-8"
XML_TYPE = "application/xml;charset=utf-8"
ATOM = "http://www.w3.org/2005/Atom"
DATA = "http://schemas.microsoft.com/ado/2007/08/dataservices"
METADATA = "http://schemas.microsoft.com/ado/2007/08/dataservices/metadata"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"

ET.register_namespace("", ATOM)
ET.register_namespace("d", DATA)
ET.register_namespace("m", METADATA)


def wants_json() -> bool:
    """Exact answers JSON only when the Accept header names it; everything else gets Atom/XML (§2.7)."""
    return "application/json" in request.headers.get("Accept", "")


def json_response(payload, status: int = 200, headers: dict | None = None) -> Response:
    """Serialise a payload as Exact's JSON."""
    return Response(json.dumps(payload), status, headers, content_type=JSON_TYPE)


def envelope(message: str) -> dict:
    """Exact's OData error envelope (§2.6)."""
    return {"error": {"code": "", "message": {"lang": "", "value": message}}}


def error_response(status: int, message: str, headers: dict | None = None) -> Response:
    """The error envelope in the negotiated format."""
    if wants_json():
        return json_response(envelope(message), status, headers)
    error = ET.Element(f"{{{METADATA}}}error")
    ET.SubElement(error, f"{{{METADATA}}}code")
    ET.SubElement(error, f"{{{METADATA}}}message", {XML_LANG: ""}).text = message
    return Response(_xml(error), status, headers, content_type=XML_TYPE)


def collection_response(rows: list[dict], next_url: str | None, title: str, now: float) -> Response:
    """A page of rows (each with __metadata) as `{"d": {"results": …, "__next": …}}` or as an Atom feed."""
    if wants_json():
        page = {"results": rows}
        if next_url:
            page["__next"] = next_url
        return json_response({"d": page})
    feed = ET.Element(f"{{{ATOM}}}feed", {XML_BASE: request.url_root})
    ET.SubElement(feed, f"{{{ATOM}}}title", type="text").text = title
    ET.SubElement(feed, f"{{{ATOM}}}id").text = request.base_url
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = _iso(now)
    for row in rows:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        ET.SubElement(entry, f"{{{ATOM}}}id").text = row["__metadata"]["uri"]
        ET.SubElement(entry, f"{{{ATOM}}}category", term=row["__metadata"]["type"],
                      scheme="http://schemas.microsoft.com/ado/2007/08/dataservices/scheme")
        content = ET.SubElement(entry, f"{{{ATOM}}}content", type="application/xml")
        properties = ET.SubElement(content, f"{{{METADATA}}}properties")
        for name, value in row.items():
            if name != "__metadata":
                _property(properties, name, value)
    if next_url:
        ET.SubElement(feed, f"{{{ATOM}}}link", rel="next", href=next_url)
    return Response(_xml(feed), 200, content_type=ATOM_TYPE)


def function_response(name: str, value) -> Response:
    """A function result such as UserHasRights: `{"d": {name: value}}` or one XML element."""
    if wants_json():
        return json_response({"d": {name: value}})
    root = ET.Element("root")
    _property(root, name, value)
    return Response(_xml(root[0]), 200, content_type=XML_TYPE)


def _property(parent: ET.Element, name: str, value) -> None:
    """Add one `<d:Name m:type=…>` element the way OData v2 Atom writes properties."""
    element = ET.SubElement(parent, f"{{{DATA}}}{name}")
    if value is None:
        element.set(f"{{{METADATA}}}null", "true")
    elif isinstance(value, bool):
        element.set(f"{{{METADATA}}}type", "Edm.Boolean")
        element.text = "true" if value else "false"
    elif isinstance(value, int):
        element.set(f"{{{METADATA}}}type", "Edm.Int32")
        element.text = str(value)
    elif isinstance(value, float):
        element.set(f"{{{METADATA}}}type", "Edm.Double")
        element.text = repr(value)
    elif value.startswith("/Date("):
        element.set(f"{{{METADATA}}}type", "Edm.DateTime")
        element.text = _iso(int(value[6:-2]) / 1000)
    else:
        element.text = value


def _iso(epoch: float) -> str:
    """An Atom/XML timestamp."""
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def _xml(element: ET.Element) -> bytes:
    """Serialise an element as a UTF-8 XML document."""
    return ET.tostring(element, encoding="utf-8", xml_declaration=True)
