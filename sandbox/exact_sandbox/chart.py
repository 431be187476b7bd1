"""Static master data the generator builds divisions from: charts of accounts, VAT codes,
journals and payment conditions for Dutch and Belgian divisions, and name lists."""

from __future__ import annotations

# GL account types as Exact numbers them (a subset).
GL_TYPES = {
    10: "Cash",
    12: "Bank",
    20: "Accounts receivable",
    22: "Accounts payable",
    24: "VAT",
    27: "Accrued expenses",
    30: "Fixed assets",
    35: "Accumulated depreciations",
    40: "Inventory",
    50: "Capital stock",
    55: "Long term debt",
    90: "General",
    110: "Revenue",
    111: "Cost of goods",
    121: "Sales, general administrative expenses",
    122: "Depreciation costs",
    125: "Employee costs",
    160: "Interest income",
}

# Classification tree: (code, description, parent code or None, balance side, abstract)
CLASSIFICATIONS = (
    ("B", "Balans", None, "D", True),
    ("BMva", "Materiele vaste activa", "B", "D", False),
    ("BVor", "Vorderingen", "B", "D", False),
    ("BLim", "Liquide middelen", "B", "D", False),
    ("BVrd", "Voorraden", "B", "D", False),
    ("BEiv", "Eigen vermogen", "B", "C", False),
    ("BLas", "Langlopende schulden", "B", "C", False),
    ("BSch", "Kortlopende schulden", "B", "C", False),
    ("W", "Winst- en verliesrekening", None, "C", True),
    ("WOmz", "Netto-omzet", "W", "C", False),
    ("WKpr", "Kostprijs van de omzet", "W", "D", False),
    ("WBed", "Bedrijfskosten", "W", "D", False),
    ("WPer", "Personeelskosten", "W", "D", False),
    ("WAfs", "Afschrijvingen", "W", "D", False),
    ("WFbe", "Financiele baten en lasten", "W", "C", False),
)

# Chart rows: (role, code, description, balance type, balance side, type, classification)
# The role lets the generator find "the creditors account" etc. in either country's chart.
CHART_NL = (
    ("fixed", "0200", "Inventaris", "B", "D", 30, "BMva"),
    ("depreciation", "0210", "Afschrijving inventaris", "B", "C", 35, "BMva"),
    ("equity", "0500", "Eigen vermogen", "B", "C", 50, "BEiv"),
    ("loan", "0600", "Leningen", "B", "C", 55, "BLas"),
    ("cash", "1000", "Kas", "B", "D", 10, "BLim"),
    ("bank", "1100", "Bank", "B", "D", 12, "BLim"),
    ("debtors", "1300", "Debiteuren", "B", "D", 20, "BVor"),
    ("vat_pay_high", "1500", "Te betalen btw hoog", "B", "C", 24, "BSch"),
    ("vat_pay_low", "1510", "Te betalen btw laag", "B", "C", 24, "BSch"),
    ("vat_claim", "1520", "Te vorderen btw", "B", "D", 24, "BVor"),
    ("vat_settle", "1530", "Af te dragen btw", "B", "C", 24, "BSch"),
    ("creditors", "1600", "Crediteuren", "B", "C", 22, "BSch"),
    ("accrued", "1700", "Nog te betalen kosten", "B", "C", 27, "BSch"),
    ("suspense", "2000", "Vraagposten", "B", "D", 90, "BSch"),
    ("stock", "3000", "Voorraad", "B", "D", 40, "BVrd"),
    ("cost", "4000", "Lonen en salarissen", "W", "D", 125, "WPer"),
    ("cost", "4100", "Sociale lasten", "W", "D", 125, "WPer"),
    ("cost", "4200", "Huisvestingskosten", "W", "D", 121, "WBed"),
    ("cost", "4210", "Huur", "W", "D", 121, "WBed"),
    ("cost", "4300", "Kantoorkosten", "W", "D", 121, "WBed"),
    ("cost", "4310", "Telefoon en internet", "W", "D", 121, "WBed"),
    ("cost", "4400", "Autokosten", "W", "D", 121, "WBed"),
    ("cost", "4500", "Verkoopkosten", "W", "D", 121, "WBed"),
    ("cost", "4600", "Algemene kosten", "W", "D", 121, "WBed"),
    ("cost_depreciation", "4700", "Afschrijvingskosten", "W", "D", 122, "WAfs"),
    ("interest", "4800", "Rentelasten en -baten", "W", "D", 160, "WFbe"),
    ("cost", "7000", "Inkoopwaarde van de omzet", "W", "D", 111, "WKpr"),
    ("revenue", "8000", "Omzet hoog tarief", "W", "C", 110, "WOmz"),
    ("revenue", "8010", "Omzet laag tarief", "W", "C", 110, "WOmz"),
    ("revenue", "8020", "Omzet vrijgesteld", "W", "C", 110, "WOmz"),
)

CHART_BE = (
    ("fixed", "240000", "Meubilair en rollend materieel", "B", "D", 30, "BMva"),
    ("depreciation", "241000", "Afschrijvingen meubilair", "B", "C", 35, "BMva"),
    ("equity", "100000", "Geplaatst kapitaal", "B", "C", 50, "BEiv"),
    ("loan", "173000", "Kredietinstellingen", "B", "C", 55, "BLas"),
    ("cash", "570000", "Kas", "B", "D", 10, "BLim"),
    ("bank", "550000", "Bank", "B", "D", 12, "BLim"),
    ("debtors", "400000", "Handelsvorderingen", "B", "D", 20, "BVor"),
    ("vat_pay_high", "451000", "Te betalen btw", "B", "C", 24, "BSch"),
    ("vat_pay_low", "451100", "Te betalen btw verlaagd", "B", "C", 24, "BSch"),
    ("vat_claim", "411000", "Terug te vorderen btw", "B", "D", 24, "BVor"),
    ("vat_settle", "451900", "Btw-rekening courant", "B", "C", 24, "BSch"),
    ("creditors", "440000", "Leveranciers", "B", "C", 22, "BSch"),
    ("accrued", "492000", "Toe te rekenen kosten", "B", "C", 27, "BSch"),
    ("suspense", "499000", "Wachtrekening", "B", "D", 90, "BSch"),
    ("stock", "340000", "Handelsgoederen", "B", "D", 40, "BVrd"),
    ("cost", "620000", "Bezoldigingen", "W", "D", 125, "WPer"),
    ("cost", "621000", "Sociale lasten", "W", "D", 125, "WPer"),
    ("cost", "610000", "Huur", "W", "D", 121, "WBed"),
    ("cost", "611000", "Onderhoud en herstellingen", "W", "D", 121, "WBed"),
    ("cost", "612000", "Kantoorbenodigdheden", "W", "D", 121, "WBed"),
    ("cost", "612100", "Telefoon en internet", "W", "D", 121, "WBed"),
    ("cost", "613000", "Erelonen", "W", "D", 121, "WBed"),
    ("cost", "614000", "Publiciteit", "W", "D", 121, "WBed"),
    ("cost", "615000", "Wagenpark", "W", "D", 121, "WBed"),
    ("cost_depreciation", "630000", "Afschrijvingen", "W", "D", 122, "WAfs"),
    ("interest", "650000", "Financiele kosten", "W", "D", 160, "WFbe"),
    ("cost", "604000", "Aankopen handelsgoederen", "W", "D", 111, "WKpr"),
    ("revenue", "700000", "Omzet 21%", "W", "C", 110, "WOmz"),
    ("revenue", "700100", "Omzet 6%", "W", "C", 110, "WOmz"),
    ("revenue", "700200", "Omzet intracommunautair", "W", "C", 110, "WOmz"),
)

# VAT codes: (code, description, type, transaction type, [(percentage, start, end)], gl role)
# Type: E exclusive, I inclusive, N none. Transaction type: P purchase, S sales, B both.
VAT_NL = (
    ("0", "Geen btw", "N", "B", [(0, None, None)], None),
    (
        "1",
        "Verkopen hoog 21%",
        "E",
        "S",
        [(19, None, "2012-09-30"), (21, "2012-10-01", None)],
        "vat_pay_high",
    ),
    (
        "2",
        "Verkopen laag 9%",
        "E",
        "S",
        [(6, None, "2018-12-31"), (9, "2019-01-01", None)],
        "vat_pay_low",
    ),
    ("3", "Verkopen 0%", "E", "S", [(0, None, None)], "vat_pay_high"),
    (
        "4",
        "Inkopen hoog 21%",
        "E",
        "P",
        [(19, None, "2012-09-30"), (21, "2012-10-01", None)],
        "vat_claim",
    ),
    (
        "5",
        "Inkopen laag 9%",
        "E",
        "P",
        [(6, None, "2018-12-31"), (9, "2019-01-01", None)],
        "vat_claim",
    ),
    ("6", "Verlegde btw inkopen 21%", "E", "P", [(21, None, None)], "vat_claim"),
    ("7", "Inkopen binnen de EU 21%", "E", "P", [(21, None, None)], "vat_claim"),
)

VAT_BE = (
    ("00", "Geen btw", "N", "B", [(0, None, None)], None),
    ("21", "Verkopen 21%", "E", "S", [(21, None, None)], "vat_pay_high"),
    ("12", "Verkopen 12%", "E", "S", [(12, None, None)], "vat_pay_low"),
    ("06", "Verkopen 6%", "E", "S", [(6, None, None)], "vat_pay_low"),
    ("81", "Aankopen handelsgoederen 21%", "E", "P", [(21, None, None)], "vat_claim"),
    ("82", "Aankopen diensten 21%", "E", "P", [(21, None, None)], "vat_claim"),
    ("83", "Aankopen investeringen 21%", "E", "P", [(21, None, None)], "vat_claim"),
    ("87", "Medecontractant 21%", "E", "P", [(21, None, None)], "vat_claim"),
)

# Journals: (code, description, type, gl role)
JOURNALS_NL = (
    ("10", "Kas", 10, "cash"),
    ("20", "Bank", 12, "bank"),
    ("60", "Inkoopboek", 22, "creditors"),
    ("70", "Verkoopboek", 20, "debtors"),
    ("90", "Memoriaal", 90, None),
)
JOURNALS_BE = (
    ("KAS", "Kas", 10, "cash"),
    ("BNK", "Bank", 12, "bank"),
    ("AKP", "Aankoopdagboek", 22, "creditors"),
    ("VKP", "Verkoopdagboek", 20, "debtors"),
    ("DIV", "Diverse verrichtingen", 90, None),
)

# Payment conditions: (code, description, days)
PAYMENT_CONDITIONS = (
    ("00", "Contant", 0),
    ("14", "14 dagen", 14),
    ("30", "30 dagen", 30),
    ("60", "60 dagen", 60),
)

DOCUMENT_TYPES = {
    10: "Sales invoice",
    20: "Purchase invoice",
    55: "Contract",
    183: "General attachment",
}

COST_CENTER_NAMES = ("Algemeen", "Verkoop", "Productie", "Administratie", "Inkoop", "Logistiek")
COST_UNIT_NAMES = ("Project Noord", "Project Zuid", "Onderhoud", "Advies", "Nieuwbouw")

TRADES = (
    "Bakkerij",
    "Garage",
    "Installatiebedrijf",
    "Drukkerij",
    "Transportbedrijf",
    "Bouwbedrijf",
    "Adviesbureau",
    "Hoveniersbedrijf",
    "Schildersbedrijf",
    "Kantoorvakhandel",
    "Energiebedrijf",
    "Telecom",
    "Verzekeringen",
    "Catering",
    "Schoonmaakbedrijf",
    "Webwinkel",
    "Kapsalon",
)
SURNAMES = (
    "de Vries",
    "Jansen",
    "Bakker",
    "Visser",
    "Smit",
    "Meijer",
    "de Boer",
    "Mulder",
    "de Groot",
    "Bos",
    "Vos",
    "Peters",
    "Hendriks",
    "van Leeuwen",
    "Dekker",
    "Brouwer",
    "de Wit",
    "Dijkstra",
    "Smits",
    "de Graaf",
    "Peeters",
    "Maes",
    "Claes",
    "Willems",
    "Wouters",
    "Goossens",
)
LEGAL_FORMS = {"NL": ("B.V.", "VOF", "", "Holding B.V."), "BE": ("BV", "NV", "CommV", "")}
CITIES = {
    "NL": ("Amsterdam", "Utrecht", "Zwolle", "Groningen", "Eindhoven", "Haarlem", "Breda"),
    "BE": ("Antwerpen", "Gent", "Leuven", "Brugge", "Hasselt", "Mechelen", "Kortrijk"),
}
