"""The print edition made ready for the press: PDF/X-4 colour.

WeasyPrint writes the brand colours the print profile gives as DeviceCMYK,
but every other colour (greys, the logo, rules, crop marks) as DeviceRGB, and
no output intent.  :func:`press_ready` converts every RGB fill and stroke of
every content stream to CMYK through the press condition's ICC profile
(neutrals to black only, as prepress does for text), draws the crop marks in
registration colour (``/Separation /All``), gives RGB images and
shadings the sRGB profile they were made in, makes transparency groups CMYK,
and embeds the condition's profile as the ``/OutputIntents`` PDF/X-4 requires.
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

from .objects import entry

ICC_DIR = Path(__file__).resolve().parent.parent / "icc"

# condition → (profile file, OutputConditionIdentifier, Info)
CONDITIONS = {
    "FOGRA39": ("FOGRA39L.icc", "FOGRA39",
                "Coated FOGRA39 (ISO 12647-2:2004/Amd 1, paper types 1 and 2)"),
    "TR006": ("TR006.icc", "CGATS TR 006",
              "GRACoL 2006 coated #1 (ANSI CGATS TR 006, ISO 12647-2 paper type 1)"),
}
CONDITIONS["GRACoL2006"] = CONDITIONS["TR006"]
REGISTRY = "http://www.color.org"
NEUTRAL = 0.11  # how far apart an RGB colour's channels may be for it to print as a grey


def _profile_file(condition: str) -> Path:
    """The ICC file of ``condition``: a shipped one, or the site's ('path#sha256')."""
    if condition in CONDITIONS:
        return ICC_DIR / CONDITIONS[condition][0]
    return Path(condition.rpartition("#")[0])


def _identification(condition: str) -> tuple[str, str]:
    """(OutputConditionIdentifier, Info) of ``condition``."""
    if condition in CONDITIONS:
        return CONDITIONS[condition][1], CONDITIONS[condition][2]
    from PIL import ImageCms

    described = ImageCms.getProfileDescription(
        ImageCms.ImageCmsProfile(str(_profile_file(condition)))).strip()
    return "Custom", described or _profile_file(condition).name


@lru_cache(maxsize=4)
def _transform(condition: str):
    from PIL import ImageCms

    press = ImageCms.ImageCmsProfile(str(_profile_file(condition)))
    return ImageCms.buildTransform(ImageCms.createProfile("sRGB"), press, "RGB", "CMYK",
                                   renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC)


@lru_cache(maxsize=4096)
def cmyk(condition: str, red: float, green: float, blue: float) -> tuple[float, ...]:
    """An sRGB colour (0–1) as CMYK (0–1) on the press; a grey (even a slightly
    tinted one, as layouts' greys are) as black only, so that small grey text never
    depends on the registration of four plates."""
    if max(red, green, blue) - min(red, green, blue) <= NEUTRAL:
        return (0.0, 0.0, 0.0, round(1 - (0.2126 * red + 0.7152 * green + 0.0722 * blue), 4))
    from PIL import Image, ImageCms

    pixel = Image.new("RGB", (1, 1), tuple(round(max(0, min(1, v)) * 255)
                                           for v in (red, green, blue)))
    converted = ImageCms.applyTransform(pixel, _transform(condition))
    assert converted is not None  # applied to a copy, not in place
    values = converted.getpixel((0, 0))
    assert isinstance(values, tuple)  # a CMYK pixel
    return tuple(round(v / 255, 4) for v in values)


def _srgb_stream(pdf):
    import pikepdf
    from PIL import ImageCms

    data = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return pikepdf.Array([pikepdf.Name.ICCBased,
                          pdf.make_stream(data, N=3, Alternate=pikepdf.Name.DeviceRGB)])


def _convert_stream(owner, condition: str, pdf) -> None:
    """Rewrite the RGB colour operators of ``owner``'s content stream(s) as CMYK."""
    import pikepdf

    instructions = pikepdf.parse_content_stream(owner)
    changed = False
    out: list[tuple[list, pikepdf.Operator]] = []
    spaces: dict[str, str | None] = {"fill": None, "stroke": None}
    for instruction in instructions:
        operands: list = list(instruction.operands)
        operator = instruction.operator
        name = str(operator)
        if name in ("rg", "RG") and len(operands) == 3:
            values = cmyk(condition, *(float(v) for v in operands))
            operands, operator = list(values), pikepdf.Operator("k" if name == "rg" else "K")
            changed = True
        elif name in ("cs", "CS") and operands and operands[0] == pikepdf.Name.DeviceRGB:
            spaces["fill" if name == "cs" else "stroke"] = "rgb"
            operands = [pikepdf.Name.DeviceCMYK]
            changed = True
        elif name in ("cs", "CS"):
            spaces["fill" if name == "cs" else "stroke"] = None
        elif name in ("sc", "scn", "SC", "SCN") and len(operands) == 3 and spaces[
                "fill" if name in ("sc", "scn") else "stroke"] == "rgb":
            operands = list(cmyk(condition, *(float(v) for v in operands)))
            changed = True
        out.append((operands, operator))
    if changed:
        data = pikepdf.unparse_content_stream(out)
        if isinstance(owner, pikepdf.Page):
            owner.obj.Contents = pdf.make_stream(data)
        else:
            owner.write(data)


def _resources(resources, condition: str, pdf, srgb, seen: set) -> None:
    import pikepdf

    if resources is None:
        return
    for xobject in (resources.get("/XObject") or {}).values():
        if xobject.objgen in seen:
            continue
        seen.add(xobject.objgen)
        if xobject.get("/Subtype") == pikepdf.Name.Image:
            if xobject.get("/ColorSpace") == pikepdf.Name.DeviceRGB:
                xobject.ColorSpace = srgb
        elif xobject.get("/Subtype") == pikepdf.Name.Form:
            _group(xobject)
            _convert_stream(xobject, condition, pdf)
            _resources(xobject.get("/Resources"), condition, pdf, srgb, seen)
    for pattern in (resources.get("/Pattern") or {}).values():
        if pattern.objgen in seen:
            continue
        seen.add(pattern.objgen)
        if pattern.get("/PatternType") == 1:
            _convert_stream(pattern, condition, pdf)
            _resources(pattern.get("/Resources"), condition, pdf, srgb, seen)
        elif pattern.get("/Shading") is not None:
            _shading(pattern.Shading, srgb)
    for shading in (resources.get("/Shading") or {}).values():
        _shading(shading, srgb)
    for state in (resources.get("/ExtGState") or {}).values():
        mask = state.get("/SMask")
        if isinstance(mask, pikepdf.Dictionary) and mask.get("/G") is not None:
            group = mask.G
            if group.objgen not in seen:
                seen.add(group.objgen)
                _group(group)
                _convert_stream(group, condition, pdf)
                _resources(group.get("/Resources"), condition, pdf, srgb, seen)


def _group(owner) -> None:
    import pikepdf

    group = owner.get("/Group")
    if group is not None and group.get("/CS") == pikepdf.Name.DeviceRGB:
        group.CS = pikepdf.Name.DeviceCMYK


def _shading(shading, srgb) -> None:
    import pikepdf

    if shading.get("/ColorSpace") == pikepdf.Name.DeviceRGB:
        shading.ColorSpace = srgb


def _crop_marks(page) -> list:
    """The form XObjects of ``page`` that hold only its crop marks: drawn over the
    whole media box (bleed included), paths in black, no text and no image."""
    import pikepdf

    media = [float(v) for v in page.obj.MediaBox]
    ratio = (media[2] - media[0]) / (media[3] - media[1])
    found = []
    for xobject in ((page.obj.get("/Resources") or {}).get("/XObject") or {}).values():
        if xobject.get("/Subtype") != pikepdf.Name.Form or "/BBox" not in xobject:
            continue
        box = [float(v) for v in xobject.BBox]
        if not (box[0] < 0 and box[1] < 0 and abs((box[2] - box[0]) / (box[3] - box[1])
                                                    - ratio) < 0.01):
            continue
        operators = [(list(i.operands), i.operator)
                     for i in pikepdf.parse_content_stream(xobject)]
        names = {str(op) for _operands, op in operators}
        if names & {"BT", "Do", "sh", "BI"}:
            continue
        colours = [[float(v) for v in operands] for operands, op in operators
                   if str(op) in ("k", "K")]
        if colours and all(c == [0, 0, 0, 1] for c in colours) and not names & {"rg", "RG"}:
            found.append(xobject)
    return found


def _registration(pdf, form) -> None:
    """Crop marks in registration colour (every plate): Separation /All."""
    import pikepdf

    tint = pdf.make_indirect(pikepdf.Dictionary(
        FunctionType=2, Domain=pikepdf.Array([0, 1]), N=1,
        C0=pikepdf.Array([0, 0, 0, 0]), C1=pikepdf.Array([1, 1, 1, 1])))
    space = pikepdf.Array([pikepdf.Name.Separation, pikepdf.Name.All,
                           pikepdf.Name.DeviceCMYK, tint])
    resources = form.get("/Resources")
    if resources is None:
        form.Resources = resources = pikepdf.Dictionary()
    if resources.get("/ColorSpace") is None:
        resources.ColorSpace = pikepdf.Dictionary()
    resources.ColorSpace.Registration = space
    out: list[tuple[list, pikepdf.Operator]] = []
    for instruction in pikepdf.parse_content_stream(form):
        operands, operator = list(instruction.operands), instruction.operator
        name = str(operator)
        if name in ("k", "K"):
            fill = name == "k"
            out.append(([pikepdf.Name.Registration], pikepdf.Operator("cs" if fill else "CS")))
            out.append(([1], pikepdf.Operator("scn" if fill else "SCN")))
            continue
        out.append((operands, operator))
    form.write(pikepdf.unparse_content_stream(out))


def press_ready(data: bytes, condition: str = "FOGRA39") -> bytes:
    """The PDF ``data`` with CMYK colour and the output intent of ``condition``: a
    shipped condition's name, or the site's own profile as 'path#sha256'."""
    import pikepdf

    identifier, info = _identification(condition)
    with pikepdf.open(io.BytesIO(data)) as pdf:
        srgb = _srgb_stream(pdf)
        seen: set = set()
        for page in pdf.pages:
            _group(page.obj)
            _convert_stream(page, condition, pdf)
            _resources(page.obj.get("/Resources"), condition, pdf, srgb, seen)
            for annotation in page.obj.get("/Annots") or []:
                appearance = entry(annotation, "/AP", "/N")
                if isinstance(appearance, pikepdf.Stream):
                    _convert_stream(appearance, condition, pdf)
            for form in _crop_marks(page):
                _registration(pdf, form)
        profile = pdf.make_stream(_profile_file(condition).read_bytes(), N=4,
                                  Alternate=pikepdf.Name.DeviceCMYK)
        pdf.Root.OutputIntents = pikepdf.Array([pdf.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.OutputIntent, S=pikepdf.Name.GTS_PDFX,
            OutputConditionIdentifier=pikepdf.String(identifier),
            OutputCondition=pikepdf.String(info), Info=pikepdf.String(info),
            RegistryName=pikepdf.String(REGISTRY), DestOutputProfile=profile))])
        pdf.docinfo["/Trapped"] = pikepdf.Name("/False")
        if "/StructTreeRoot" in pdf.Root:  # tagged: say so
            pdf.Root.MarkInfo = pikepdf.Dictionary(Marked=True)
        out = io.BytesIO()
        pdf.save(out, compress_streams=True, deterministic_id=True,
                 object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return out.getvalue()
