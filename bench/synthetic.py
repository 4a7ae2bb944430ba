"""Synthetic multilingual news for scale benchmarks: N distinct articles and a claims file about their subjects.

Every article is assembled at random from a large combinatorial pool (openers × sentence skeletons × closings,
filled with people, places, organisations, topics, numbers and dates of its language), so no two articles are
near-duplicates for the clean stage's MinHash detector. About one article in three also reports on the subject of
one claim of `CLAIMS` in its own language, so the relevance prefilter sends some (article, claim) pairs to the NLI
model and rules the others out. Article `i` depends only on (seed, i): the first N articles of a larger corpus are
the corpus of size N, and articles N..N+k are new to it.

    python bench/synthetic.py OUT_DIR --count 1000 [--seed 0]    # OUT_DIR/articles/*.jsonl + OUT_DIR/claims.yaml
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import yaml

LANGUAGES = ("it", "en", "fr", "de", "es")
PER_FILE = 1000  # articles per JSONL file, as a news API dump would deliver them

_FIRST = {
    "it": "Mario Giulia Luca Chiara Paolo Francesca Marco Elena Andrea Sara Giorgio Valentina Stefano Anna Davide Marta",
    "en": "James Emma Oliver Sophie Thomas Grace Daniel Hannah Samuel Olivia Henry Alice George Ruth Mario Kate",
    "fr": "Jean Claire Pierre Camille Louis Juliette Nicolas Manon Antoine Léa Hugo Chloé Julien Sophie Mathieu Inès",
    "de": "Lukas Anna Jonas Lea Felix Marie Paul Sophie Leon Laura Maximilian Julia Tobias Clara Stefan Katrin",
    "es": "Pablo Lucía Javier Carmen Diego Elena Sergio Marta Álvaro Paula Mario Sara Andrés Laura Raúl Irene",
}
_LAST = {
    "it": "Rossi Bianchi Ferrari Esposito Romano Colombo Ricci Marino Greco Bruno Gallo Conti Mancini Lombardi Moretti Fontana",
    "en": "Smith Jones Taylor Brown Williams Wilson Evans Thomas Roberts Walker Wright Hughes Green Hall Clarke Rossi",
    "fr": "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent Lefebvre Michel Garcia Roux",
    "de": "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Koch Richter Klein Wolf Neumann Braun",
    "es": "García Rodríguez González Fernández López Martínez Sánchez Pérez Gómez Martín Jiménez Ruiz Hernández Díaz Moreno Muñoz",
}
_PLACES = {
    "it": [
        "Roma",
        "Torino",
        "Bologna",
        "Valmora",
        "Castelverde",
        "Bari",
        "Trento",
        "Lecce",
        "Pavia",
        "Ancona",
        "Udine",
        "Zürich",
    ],
    "en": [
        "Leeds",
        "Bristol",
        "Valmora",
        "Cardiff",
        "Harwick",
        "Norwich",
        "Dundee",
        "Exeter",
        "York",
        "Roma",
        "Zürich",
        "Bath",
    ],
    "fr": [
        "Lyon",
        "Nantes",
        "Marseille-Fos",
        "Rennes",
        "Dijon",
        "Brest",
        "Nancy",
        "Tours",
        "Annecy",
        "Metz",
        "Zürich",
        "Pau",
    ],
    "de": [
        "Lindenau",
        "Kassel",
        "Bremen",
        "Freiburg",
        "Leipzig",
        "Ulm",
        "Trier",
        "Erfurt",
        "Zürich",
        "Passau",
        "Kiel",
        "Jena",
    ],
    "es": [
        "Ribera",
        "Sevilla",
        "Bilbao",
        "Valencia",
        "Zaragoza",
        "Murcia",
        "Cádiz",
        "León",
        "Toledo",
        "Roma",
        "Vigo",
        "Soria",
    ],
}
_ORGS = {
    "it": ["ONU", "Regione Piemonte", "Coldiretti", "CGIL", "Confindustria", "ASL locale", "Protezione civile", "Anas"],
    "en": ["ONU", "the county council", "the Environment Agency", "Network Rail", "the NHS trust", "Unite", "Ofgem"],
    "fr": ["ONU", "la préfecture", "la SNCF", "la CGT", "l'Ademe", "le conseil régional", "la chambre de commerce"],
    "de": ["ONU", "Verdi", "Deutsche Bahn", "IHK Lindenau", "Caritas", "BUND", "Greenpeace"],
    "es": ["ONU", "el ayuntamiento", "la Junta", "Renfe", "CCOO", "la diputación", "la confederación hidrográfica"],
}
_TOPICS = {
    "it": [
        "la nuova tangenziale",
        "il bilancio dell'ospedale",
        "il piano rifiuti",
        "la scuola media",
        "il trasporto pubblico",
        "la rete idrica",
        "il parco eolico",
        "il mercato coperto",
        "la pista ciclabile",
        "il teatro comunale",
    ],
    "en": [
        "the new bypass",
        "the hospital budget",
        "the waste plan",
        "the secondary school",
        "the bus network",
        "the water mains",
        "the wind farm",
        "the covered market",
        "the cycle lane",
        "the civic theatre",
    ],
    "fr": [
        "la nouvelle rocade",
        "le budget de l'hôpital",
        "le plan déchets",
        "le collège",
        "le réseau de bus",
        "le réseau d'eau",
        "le parc éolien",
        "les halles",
        "la piste cyclable",
        "le théâtre municipal",
    ],
    "de": [
        "das Umgehungsprojekt",
        "das Klinikbudget",
        "das Abfallkonzept",
        "das Schulzentrum",
        "das Busnetz",
        "das Wassernetz",
        "das Windkraftprojekt",
        "das Marktgebäude",
        "das Radwegenetz",
        "das Stadttheater",
    ],
    "es": [
        "la nueva circunvalación",
        "el presupuesto del hospital",
        "el plan de residuos",
        "el instituto",
        "la red de autobuses",
        "la red de agua",
        "el parque eólico",
        "el mercado cubierto",
        "el carril bici",
        "el teatro municipal",
    ],
}
_MONTHS = {
    "it": "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre",
    "en": "January February March April May June July August September October November December",
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
}
_DATE = {"it": "{d} {m} {y}", "en": "{d} {m} {y}", "fr": "{d} {m} {y}", "de": "{d}. {m} {y}", "es": "{d} de {m} de {y}"}
_OPENERS = {
    "it": [
        "",
        "",
        "Secondo quanto riferito, ",
        "Nel frattempo ",
        "Intanto ",
        "Come previsto, ",
        "A sorpresa ",
        "Già la settimana scorsa ",
        "Nelle ultime ore ",
        "Per la prima volta ",
    ],
    "en": [
        "",
        "",
        "Meanwhile, ",
        "As expected, ",
        "Separately, ",
        "Earlier this week, ",
        "In a surprise move, ",
        "For the first time, ",
        "Late on Monday, ",
        "By contrast, ",
    ],
    "fr": [
        "",
        "",
        "Par ailleurs, ",
        "Comme prévu, ",
        "Dans la soirée, ",
        "Entre-temps, ",
        "À la surprise générale, ",
        "Pour la première fois, ",
        "Dès lundi, ",
        "En revanche, ",
    ],
    "de": [
        "",
        "",
        "Zudem gilt: ",
        "Fest steht: ",
        "Klar ist: ",
        "Neu ist: ",
        "Zur Erinnerung: ",
        "Wichtig: ",
        "Außerdem: ",
        "Und: ",
    ],
    "es": [
        "",
        "",
        "Mientras tanto, ",
        "Como se esperaba, ",
        "Por otra parte, ",
        "A primera hora, ",
        "Por sorpresa, ",
        "Por primera vez, ",
        "El lunes por la noche, ",
        "En cambio, ",
    ],
}
_CLOSINGS = {
    "it": [
        "",
        "",
        "",
        ", secondo una nota ufficiale",
        ", come riportano i sindacati",
        ", ha precisato la portavoce",
        " dopo mesi di trattative",
        " tra le proteste dei residenti",
        " in vista dell'estate",
    ],
    "en": [
        "",
        "",
        "",
        ", according to a statement",
        ", union officials said",
        ", a spokeswoman confirmed",
        " after months of talks",
        " amid protests from residents",
        " ahead of the summer",
    ],
    "fr": [
        "",
        "",
        "",
        ", selon un communiqué",
        ", affirment les syndicats",
        ", a précisé une porte-parole",
        " après des mois de négociations",
        " malgré la colère des riverains",
        " avant l'été",
    ],
    "de": [
        "",
        "",
        "",
        ", hieß es in einer Mitteilung",
        ", so die Gewerkschaft",
        ", bestätigte eine Sprecherin",
        " nach monatelangen Verhandlungen",
        " trotz Protesten der Anwohner",
        " noch vor dem Sommer",
    ],
    "es": [
        "",
        "",
        "",
        ", según un comunicado",
        ", afirman los sindicatos",
        ", confirmó una portavoz",
        " tras meses de negociaciones",
        " entre protestas vecinales",
        " antes del verano",
    ],
}
# Skeletons, each a sentence without its final full stop. {opener} is prepended and {closing} appended by code.
_SKELETONS = {
    "it": [
        "{person} ha presentato a {place} il progetto per {topic}, che costerà {n} milioni di euro",
        "il consiglio di {place} ha approvato con {v} voti favorevoli la delibera su {topic}",
        "{org} ha chiesto a {person} di rivedere i conti di {topic} entro il {date}",
        "i lavori per {topic} a {place} dureranno {m} mesi e impiegheranno {v} operai",
        "{person} ha spiegato che {topic} servirà circa {n} mila residenti della provincia",
        "alla riunione del {date} a {place} hanno partecipato {v} sindaci e i vertici di {org}",
        "secondo {org}, il {pct} per cento dei cittadini di {place} è contrario a {topic}",
        "{person2} ha replicato che il finanziamento di {n} milioni non basta per {topic}",
        "la prefettura di {place} ha convocato {org} per il {date}",
        "{v} famiglie di {place} hanno firmato una petizione contro {topic}",
        "l'assessore {person} ha annunciato un bando da {n} milioni per {topic}",
        "nel {y} {topic} aveva già registrato un disavanzo di {n} milioni",
        "{org} stima che {topic} farà risparmiare {pct} tonnellate di CO2 all'anno a {place}",
        "la decisione su {topic} slitta al {date}, ha detto {person}",
        "a {place} il comitato dei residenti guidato da {person2} ha raccolto {v} firme",
    ],
    "en": [
        "{person} unveiled plans in {place} for {topic}, which will cost {n} million pounds",
        "councillors in {place} backed the motion on {topic} by {v} votes to {m}",
        "{org} asked {person} to review the accounts of {topic} by {date}",
        "work on {topic} in {place} will take {m} months and employ {v} people",
        "{person} said {topic} would serve about {n},000 residents across the county",
        "the meeting in {place} on {date} drew {v} mayors and senior staff from {org}",
        "according to {org}, {pct} per cent of people in {place} oppose {topic}",
        "{person2} replied that funding of {n} million was not enough for {topic}",
        "the authorities in {place} summoned {org} to a hearing on {date}",
        "{v} households in {place} have signed a petition against {topic}",
        "the cabinet member {person} announced a {n} million tender for {topic}",
        "in {y} {topic} had already run a deficit of {n} million",
        "{org} estimates that {topic} will save {place} {pct} tonnes of CO2 a year",
        "a decision on {topic} has been pushed back to {date}, {person} said",
        "in {place} a residents' group led by {person2} has gathered {v} signatures",
    ],
    "fr": [
        "{person} a présenté à {place} le projet concernant {topic}, qui coûtera {n} millions d'euros",
        "le conseil de {place} a adopté par {v} voix la délibération sur {topic}",
        "{org} a demandé à {person} de revoir les comptes concernant {topic} avant le {date}",
        "les travaux sur {topic} à {place} dureront {m} mois et mobiliseront {v} ouvriers",
        "{person} a expliqué que {topic} desservira environ {n} mille habitants du département",
        "la réunion du {date} à {place} a rassemblé {v} maires et la direction de {org}",
        "selon {org}, {pct} pour cent des habitants de {place} rejettent {topic}",
        "{person2} a rétorqué qu'un financement de {n} millions ne suffit pas pour {topic}",
        "la préfecture de {place} a convoqué {org} pour le {date}",
        "{v} familles de {place} ont signé une pétition contre {topic}",
        "l'adjoint {person} a annoncé un appel d'offres de {n} millions pour {topic}",
        "en {y}, {topic} affichait déjà un déficit de {n} millions",
        "{org} estime que {topic} fera économiser {pct} tonnes de CO2 par an à {place}",
        "la décision sur {topic} est reportée au {date}, a indiqué {person}",
        "à {place}, le collectif de riverains mené par {person2} a recueilli {v} signatures",
    ],
    "de": [
        "{person} stellte in {place} die Pläne für {topic} vor, die {n} Millionen Euro kosten sollen",
        "der Rat von {place} stimmte mit {v} Stimmen für den Antrag zu {topic}",
        "{org} forderte {person} auf, die Zahlen zu {topic} bis zum {date} zu prüfen",
        "die Arbeiten an {topic} in {place} dauern {m} Monate und beschäftigen {v} Arbeiter",
        "{person} erklärte, {topic} werde rund {n}.000 Einwohner des Kreises versorgen",
        "an der Sitzung am {date} in {place} nahmen {v} Bürgermeister und die Spitze von {org} teil",
        "laut {org} lehnen {pct} Prozent der Bürger von {place} {topic} ab",
        "{person2} entgegnete, {n} Millionen reichten für {topic} nicht aus",
        "die Behörden in {place} luden {org} für den {date} vor",
        "{v} Familien in {place} unterschrieben eine Petition gegen {topic}",
        "Dezernent {person} kündigte eine Ausschreibung über {n} Millionen für {topic} an",
        "im Jahr {y} hatte {topic} bereits ein Defizit von {n} Millionen",
        "{org} schätzt, dass {topic} in {place} jährlich {pct} Tonnen CO2 einspart",
        "die Entscheidung über {topic} wurde auf den {date} verschoben, sagte {person}",
        "in {place} sammelte die Bürgerinitiative um {person2} {v} Unterschriften",
    ],
    "es": [
        "{person} presentó en {place} el proyecto de {topic}, que costará {n} millones de euros",
        "el pleno de {place} aprobó con {v} votos la moción sobre {topic}",
        "{org} pidió a {person} que revise las cuentas de {topic} antes del {date}",
        "las obras de {topic} en {place} durarán {m} meses y emplearán a {v} trabajadores",
        "{person} explicó que {topic} dará servicio a unos {n} mil vecinos de la comarca",
        "a la reunión del {date} en {place} asistieron {v} alcaldes y la dirección de {org}",
        "según {org}, el {pct} por ciento de los vecinos de {place} rechaza {topic}",
        "{person2} respondió que una financiación de {n} millones no basta para {topic}",
        "la delegación del gobierno en {place} citó a {org} para el {date}",
        "{v} familias de {place} firmaron una petición contra {topic}",
        "el concejal {person} anunció un concurso de {n} millones para {topic}",
        "en {y} {topic} ya registraba un déficit de {n} millones",
        "{org} calcula que {topic} ahorrará a {place} {pct} toneladas de CO2 al año",
        "la decisión sobre {topic} se aplaza al {date}, dijo {person}",
        "en {place} la plataforma vecinal encabezada por {person2} reunió {v} firmas",
    ],
}
_HEADLINES = {
    "it": [
        "{place}, {topic}: {person} annuncia novità",
        "{topic}, scontro a {place}",
        "{org} e {topic}: cosa cambia a {place}",
    ],
    "en": ["{place}: {person} sets out plans for {topic}", "Row over {topic} in {place}", "{org} weighs in on {topic}"],
    "fr": [
        "{place} : {person} dévoile ses plans pour {topic}",
        "Polémique autour de {topic} à {place}",
        "{org} et {topic} : ce qui change",
    ],
    "de": [
        "{place}: {person} legt Pläne für {topic} vor",
        "Streit um {topic} in {place}",
        "{org} äußert sich zu {topic}",
    ],
    "es": [
        "{place}: {person} presenta sus planes para {topic}",
        "Polémica por {topic} en {place}",
        "{org} y {topic}: qué cambia",
    ],
}
_SITES = {
    "it": ["gazzetta-valle.it", "corriere-provincia.it", "eco-di-castelverde.it"],
    "en": ["harbour-news.co.uk", "valley-times.co.uk", "county-echo.co.uk"],
    "fr": ["courrier-ouest.fr", "la-voix-du-nord-est.fr", "le-petit-rhodanien.fr"],
    "de": ["lokalblatt.de", "rheinpost.de", "kreisbote-lindenau.de"],
    "es": ["diario-costa.es", "noticias-rio.es", "heraldo-ribera.es"],
}

# Claims about the subjects some articles report on. Each claim carries a translation per language, as an analyst
# would add, so the prefilter finds reports in any language; `reports` are sentences that say (or deny) it.
CLAIMS: list[dict] = [
    {
        "id": "valmora-dam-approved",
        "language": "en",
        "text": "The regional government approved the Valmora dam project.",
        "translations": {
            "it": "La giunta regionale ha approvato il progetto della diga di Valmora.",
            "fr": "Le gouvernement régional a approuvé le projet de barrage de Valmora.",
            "de": "Die Landesregierung hat das Staudammprojekt von Valmora genehmigt.",
            "es": "El gobierno regional aprobó el proyecto de la presa de Valmora.",
        },
        "reports": {
            "it": [
                "La giunta regionale ha approvato il progetto della diga di Valmora con {v} voti",
                "{person} nega che la giunta regionale abbia approvato la diga di Valmora",
            ],
            "en": [
                "The regional government approved the Valmora dam project on {date}",
                "{person} denied that the regional government had approved the Valmora dam",
            ],
            "fr": [
                "Le gouvernement régional a approuvé le barrage de Valmora le {date}",
                "{person} dément que le gouvernement régional ait approuvé le barrage de Valmora",
            ],
            "de": [
                "Die Landesregierung hat das Staudammprojekt von Valmora am {date} genehmigt",
                "{person} bestreitet, dass die Landesregierung den Staudamm von Valmora genehmigt hat",
            ],
            "es": [
                "El gobierno regional aprobó la presa de Valmora el {date}",
                "{person} niega que el gobierno regional haya aprobado la presa de Valmora",
            ],
        },
    },
    {
        "id": "castelverde-hospital-closed",
        "language": "it",
        "text": "L'ospedale di Castelverde ha chiuso il pronto soccorso.",
        "translations": {
            "en": "Castelverde hospital has closed its emergency department.",
            "fr": "L'hôpital de Castelverde a fermé ses urgences.",
            "de": "Das Krankenhaus Castelverde hat seine Notaufnahme geschlossen.",
            "es": "El hospital de Castelverde ha cerrado sus urgencias.",
        },
        "reports": {
            "it": [
                "L'ospedale di Castelverde ha chiuso il pronto soccorso dal {date}",
                "La direzione smentisce: il pronto soccorso dell'ospedale di Castelverde resta aperto",
            ],
            "en": [
                "Castelverde hospital closed its emergency department on {date}",
                "Managers insist the emergency department at Castelverde hospital remains open",
            ],
            "fr": [
                "L'hôpital de Castelverde a fermé ses urgences le {date}",
                "La direction assure que les urgences de l'hôpital de Castelverde restent ouvertes",
            ],
            "de": [
                "Das Krankenhaus Castelverde hat seine Notaufnahme am {date} geschlossen",
                "Die Leitung betont, die Notaufnahme des Krankenhauses Castelverde bleibe offen",
            ],
            "es": [
                "El hospital de Castelverde cerró sus urgencias el {date}",
                "La dirección asegura que las urgencias del hospital de Castelverde siguen abiertas",
            ],
        },
    },
    {
        "id": "fos-dock-strike-ended",
        "language": "fr",
        "text": "La grève des dockers du port de Marseille-Fos est terminée.",
        "translations": {
            "en": "The dockers' strike at the port of Marseille-Fos is over.",
            "it": "Lo sciopero dei portuali del porto di Marseille-Fos è finito.",
            "de": "Der Streik der Hafenarbeiter im Hafen Marseille-Fos ist beendet.",
            "es": "La huelga de los estibadores del puerto de Marseille-Fos ha terminado.",
        },
        "reports": {
            "it": [
                "Lo sciopero dei portuali di Marseille-Fos è finito dopo {m} giorni",
                "Al porto di Marseille-Fos lo sciopero dei portuali continua per il {m}° giorno",
            ],
            "en": [
                "The dockers' strike at Marseille-Fos ended after {m} days",
                "The dockers' strike at the port of Marseille-Fos entered its {m}th day",
            ],
            "fr": [
                "La grève des dockers de Marseille-Fos s'est terminée après {m} jours",
                "Au port de Marseille-Fos, la grève des dockers entre dans son {m}e jour",
            ],
            "de": [
                "Der Streik der Hafenarbeiter in Marseille-Fos ist nach {m} Tagen beendet",
                "Im Hafen Marseille-Fos geht der Streik der Hafenarbeiter in den {m}. Tag",
            ],
            "es": [
                "La huelga de estibadores de Marseille-Fos terminó tras {m} días",
                "En el puerto de Marseille-Fos la huelga de estibadores cumple {m} días",
            ],
        },
    },
    {
        "id": "lindenau-windpark-approved",
        "language": "de",
        "text": "Der Stadtrat von Lindenau hat den Windpark genehmigt.",
        "translations": {
            "en": "Lindenau city council has approved the wind farm.",
            "it": "Il consiglio comunale di Lindenau ha approvato il parco eolico.",
            "fr": "Le conseil municipal de Lindenau a approuvé le parc éolien.",
            "es": "El ayuntamiento de Lindenau ha aprobado el parque eólico.",
        },
        "reports": {
            "it": [
                "Il consiglio comunale di Lindenau ha approvato il parco eolico con {v} voti",
                "A Lindenau il parco eolico è stato respinto dal consiglio comunale",
            ],
            "en": [
                "Lindenau city council approved the wind farm by {v} votes",
                "Lindenau council rejected the wind farm after a {m}-hour debate",
            ],
            "fr": [
                "Le conseil municipal de Lindenau a approuvé le parc éolien par {v} voix",
                "À Lindenau, le conseil municipal a rejeté le parc éolien",
            ],
            "de": [
                "Der Stadtrat von Lindenau hat den Windpark mit {v} Stimmen genehmigt",
                "Der Stadtrat von Lindenau lehnte den Windpark nach {m} Stunden Debatte ab",
            ],
            "es": [
                "El ayuntamiento de Lindenau aprobó el parque eólico con {v} votos",
                "En Lindenau el pleno rechazó el parque eólico",
            ],
        },
    },
    {
        "id": "ribera-library-reopened",
        "language": "es",
        "text": "La biblioteca municipal de Ribera ha reabierto sus puertas.",
        "translations": {
            "en": "Ribera's public library has reopened.",
            "it": "La biblioteca comunale di Ribera ha riaperto.",
            "fr": "La bibliothèque municipale de Ribera a rouvert ses portes.",
            "de": "Die Stadtbibliothek von Ribera hat wieder geöffnet.",
        },
        "reports": {
            "it": [
                "La biblioteca comunale di Ribera ha riaperto il {date}",
                "La biblioteca comunale di Ribera resterà chiusa almeno fino al {date}",
            ],
            "en": ["Ribera's public library reopened on {date}", "Ribera's public library will stay shut until {date}"],
            "fr": [
                "La bibliothèque municipale de Ribera a rouvert le {date}",
                "La bibliothèque municipale de Ribera restera fermée jusqu'au {date}",
            ],
            "de": [
                "Die Stadtbibliothek von Ribera hat am {date} wieder geöffnet",
                "Die Stadtbibliothek von Ribera bleibt bis zum {date} geschlossen",
            ],
            "es": [
                "La biblioteca municipal de Ribera reabrió sus puertas el {date}",
                "La biblioteca municipal de Ribera seguirá cerrada hasta el {date}",
            ],
        },
    },
]
REPORT_SHARE = 0.35  # articles that report on a claim's subject
_LOWER_AFTER_OPENER = frozenset("L La Le Lo Il Al A Im Au En El Die Der Das The Les Managers".split())


def article(seed: int, serial: int) -> dict:
    """Article number `serial` of the corpus `seed`: a JSON record as news APIs deliver them."""
    rng = random.Random(f"{seed}:{serial}")
    language = LANGUAGES[serial % len(LANGUAGES)]
    published = date(2026, 1, 1) + timedelta(days=rng.randrange(365))
    fill = _Filler(rng, language, published.year)
    count = rng.randint(8, 25)
    sentences = [fill.sentence(rng.choice(_SKELETONS[language])) for _ in range(count)]
    if rng.random() < REPORT_SHARE:
        claim = rng.choice(CLAIMS)
        for _ in range(rng.randint(1, 2)):
            sentences.insert(rng.randrange(len(sentences) + 1), fill.sentence(rng.choice(claim["reports"][language])))
    paragraphs, i = [], 0
    while i < len(sentences):
        size = rng.randint(2, 4)
        paragraphs.append(" ".join(sentences[i : i + size]))
        i += size
    site = rng.choice(_SITES[language])
    return {
        "url": f"https://www.{site}/{published:%Y/%m/%d}/article-{seed}-{serial}",
        "title": _capitalised(fill.text(rng.choice(_HEADLINES[language]))),
        "text": "\n\n".join(paragraphs),
        "published": published.isoformat(),
        "language": language,
        "author": fill.person(),
        "site": site,
    }


def articles(count: int, seed: int = 0, start: int = 0) -> Iterator[dict]:
    """Articles start .. start+count-1 of the corpus `seed`."""
    for serial in range(start, start + count):
        yield article(seed, serial)


def write_jsonl(directory: Path, count: int, seed: int = 0, start: int = 0, per_file: int = PER_FILE) -> list[Path]:
    """Articles start .. start+count-1 as JSONL files of `per_file` records each (named by their first serial)."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for first in range(start, start + count, per_file):
        size = min(per_file, start + count - first)
        path = directory / f"articles-{seed}-{first:07d}.jsonl"
        with path.open("w", encoding="utf-8") as out:
            for record in articles(size, seed, first):
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
        paths.append(path)
    return paths


def write_claims(path: Path) -> Path:
    """The claims file (YAML, as `stancewire run --claims` reads it) for the subjects articles report on."""
    claims = [{k: c[k] for k in ("id", "text", "language", "translations")} for c in CLAIMS]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"claims": claims}, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


class _Filler:
    def __init__(self, rng: random.Random, language: str, year: int) -> None:
        self.rng, self.language, self.year = rng, language, year

    def person(self) -> str:
        return f"{self.rng.choice(_FIRST[self.language].split())} {self.rng.choice(_LAST[self.language].split())}"

    def date(self) -> str:
        month = self.rng.choice(_MONTHS[self.language].split())
        return _DATE[self.language].format(d=self.rng.randint(1, 28), m=month, y=self.year)

    def text(self, skeleton: str) -> str:
        rng = self.rng
        values = {
            "person": self.person(),
            "person2": self.person(),
            "place": rng.choice(_PLACES[self.language]),
            "org": rng.choice(_ORGS[self.language]),
            "topic": rng.choice(_TOPICS[self.language]),
            "date": self.date(),
            "n": rng.randint(2, 950),
            "m": rng.randint(2, 48),
            "v": rng.randint(3, 4000),
            "pct": rng.randint(5, 95),
            "y": self.year - rng.randint(1, 6),
        }
        return _contract(self.language, skeleton.format(**values))

    def sentence(self, skeleton: str) -> str:
        body = self.text(skeleton) + self.rng.choice(_CLOSINGS[self.language])
        opener = self.rng.choice(_OPENERS[self.language])
        if opener and not opener.endswith(": ") and re.split(r"[ ']", body, maxsplit=1)[0] in _LOWER_AFTER_OPENER:
            body = body[0].lower() + body[1:]
        return _capitalised(opener + body) + "."


def _capitalised(text: str) -> str:
    return text[0].upper() + text[1:]


_CONTRACTIONS = {
    "it": {
        "su il ": "sul ",
        "di il ": "del ",
        "a il ": "al ",
        "su la ": "sulla ",
        "di la ": "della ",
        "a la ": "alla ",
        "su l'": "sull'",
        "di l'": "dell'",
        "a l'": "all'",
        "su i ": "sui ",
        "di i ": "dei ",
    },
    "fr": {"à le ": "au ", "de le ": "du ", "à les ": "aux ", "de les ": "des ", "de ONU": "de l'ONU"},
    "de": {"zu das ": "zum ", "an das ": "am ", "von das ": "vom "},
    "es": {"de el ": "del ", "a el ": "al "},
}


def _contract(language: str, text: str) -> str:
    for loose, joined in _CONTRACTIONS.get(language, {}).items():
        text = text.replace(loose, joined)
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    files = write_jsonl(args.out / "articles", args.count, args.seed)
    write_claims(args.out / "claims.yaml")
    print(
        f"{args.count} articles in {len(files)} files under {args.out / 'articles'}; claims in {args.out / 'claims.yaml'}"
    )


if __name__ == "__main__":
    main()
