"""Contacts as people write them: national numbers of any country, extensions,
other organisations, names with particles; read back from the PDF, the e-mail
edition and the vCards."""

from __future__ import annotations

import pytest
import vobject
from conftest import ProjectDir
from pdfread import links, text

from publisher.bundle import vcard
from publisher.localise import Contact, sort_name
from publisher.text.phones import read_phone

JOINT = "sources/releases/2018/2018-06-20-joint.en.md"
JOINT_SOURCE = """---
title: "Northfield and CNES open a joint data centre for climate research"
date: 2018-06-20
dateline: Toulouse
contacts:
  - pascale-bresson
  - name: "Dana Whitfield"
    role: "Media Relations Manager"
    organisation: "Northfield Open Source Foundation"
    country: US
    phone: "+1-650-555-0100, poste 752"
    mobile: "202-358-0142"
    email: "dana.whitfield@example.org"
    note: "Available 9 am–6 pm EDT"
  - name: "Kenji Sato"
    role: "Press Officer"
    organisation: "Northfield Open Source Foundation"
    country: JP
    phone: "080-1234-5678"
    email: "kenji.sato@example.org"
  - name: "Ann Other"
    organisation: "Northfield Open Source Foundation"
    phone: "0800 TEL NORTH"
---

The foundation and the agency opened a data centre in Toulouse.
"""


@pytest.mark.parametrize(("written", "countries", "printed", "extension", "uri"), [
    ("202-358-0142", ["US", "FR"], "+1 202-358-0142", "", "tel:+1-202-358-0142"),
    ("+1-650-555-0100, poste 752", ["FR"], "+1 650-555-0100", "752",
     "tel:+1-650-555-0100;ext=752"),
    ("(650) 555-0100 ext. 12", ["US"], "+1 650-555-0100", "12", "tel:+1-650-555-0100;ext=12"),
    ("650.555.0100 x3", ["US"], "+1 650-555-0100", "3", "tel:+1-650-555-0100;ext=3"),
    ("030 1234567 Durchwahl 752", ["DE"], "+49 30 1234567", "752",
     "tel:+49-30-1234567;ext=752"),
    ("03-1234-5678 内線752", ["JP"], "+81 3-1234-5678", "752", "tel:+81-3-1234-5678;ext=752"),
    ("080-1234-5678", [None, "JP", "FR"], "+81 80-1234-5678", "", "tel:+81-80-1234-5678"),
    ("020 7946 0958", ["GB"], "+44 20 7946 0958", "", "tel:+44-20-7946-0958"),
    ("0044 20 7946 0958", ["FR"], "+44 20 7946 0958", "", "tel:+44-20-7946-0958"),
    ("01 44 76 75 39", [None, None, "FR"], "+33 1 44 76 75 39", "", "tel:+33-1-44-76-75-39"),
    ("0800 TEL NORTH", ["FR"], "0800 TEL NORTH", "", ""),
    ("202-358-0142", ["FR"], "202-358-0142", "", ""),  # not French: kept as written
])
def test_phone_numbers_as_people_write_them(written, countries, printed, extension, uri):
    phone = read_phone(written, countries)
    assert (phone.number, phone.extension, phone.uri) == (printed, extension, uri)


@pytest.mark.parametrize(("name", "sorted_as"), [
    ("Jean-Yves Le Gall", "Le Gall, Jean-Yves"),
    ("Ludwig Mies van der Rohe", "van der Rohe, Ludwig Mies"),
    ("María de la Cruz", "de la Cruz, María"),
    ("Pascale Bresson", "Bresson, Pascale"),
    ("Anne Marie Smith", "Smith, Anne Marie"),
    ("Дмитрий Рогозин", "Рогозин, Дмитрий"),
    ("Madonna", "Madonna"),
])
def test_family_names_keep_their_particles(name, sorted_as):
    assert sort_name(name) == sorted_as


def test_a_vcard_has_the_organisation_name_and_a_structured_name():
    contact = Contact(id="jylg", name="Jean-Yves Le Gall", role="Président", phone="+33 1 2",
                      phone_uri="", email="jy@example.org", organisation="cnes",
                      organisation_name="CNES", sort_name=sort_name("Jean-Yves Le Gall"),
                      extension="752", mobile=read_phone("06 12 34 56 78", ["FR"]))
    card = vobject.readOne(vcard(contact, "CNES"))
    assert card.n.value.family == "Le Gall" and card.n.value.given == "Jean-Yves"
    assert card.org.value == ["CNES"]
    assert sorted(t.value for t in card.contents["tel"]) == ["+33 1 2 ext. 752",
                                                            "+33 6 12 34 56 78"]


@pytest.fixture(scope="module")
def joint(tmp_path_factory):
    import shutil

    from conftest import REPO

    from publisher.pipeline import build, build_newsletter

    root = tmp_path_factory.mktemp("joint")
    shutil.copytree(REPO / "sources", root / "sources")
    project = ProjectDir(root)
    project.write(JOINT, JOINT_SOURCE)
    release = build(root, [root / JOINT])
    newsletter = build_newsletter(root, "2018-06", lang="en", jobs=1)
    return project, release, newsletter


def test_a_joint_release_prints_every_contact_by_organisation(joint):
    project, result, _ = joint
    assert result.ok, [str(p) for p in result.problems]
    pdf = project.pdf("2018-06-20-joint.en")
    content = " ".join(text(pdf).split())
    # contacts grouped under their organisations, the site's own first as written
    assert content.index("CNES Pascale Bresson") < content.index(
        "Northfield Open Source Foundation Dana Whitfield")
    assert "Tel. +1 650-555-0100, ext. 752" in content
    assert "Mobile +1 202-358-0142" in content
    assert "Tel. +81 80-1234-5678" in content  # a Japanese mobile, read with its country
    assert "Available 9 am–6 pm EDT" in content
    assert "Tel. 0800 TEL NORTH" in content  # printed as written…
    uris = links(pdf)
    assert "tel:+1-650-555-0100;ext=752" in uris and "tel:+81-80-1234-5678" in uris
    assert not [u for u in uris if "0800" in u]  # …without a link
    [warning] = result.warnings
    assert (warning.file, warning.line) == (JOINT, 21)
    assert "'0800 TEL NORTH' of 'Ann Other' is printed as written" in warning.message


def test_organisation_names_never_ids_in_the_e_mail_edition(joint):
    project, _, newsletter = joint
    assert newsletter.ok, [str(p) for p in newsletter.problems]
    text = project.read("build/newsletters/2018-06.en.txt")
    assert max(len(line) for line in text.splitlines()) <= 72  # folded for mail readers
    plain = " ".join(text.split())
    html = project.read("build/newsletters/2018-06.en.html")
    assert "Pascale Bresson, Press Officer — CNES" in plain
    assert "(cnes)" not in plain and "(cnes)" not in html
    assert "Dana Whitfield, Media Relations Manager — Northfield Open Source Foundation" in plain
    assert "Tel. +1 650-555-0100, ext. 752" in plain
