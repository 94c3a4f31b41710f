"""Every user-visible label of the reports, in Polish (the default) and English (for the Dutch
partners), in one table: a language is a column here, not a fork of the notebooks.

Keys are dotted, ``<family>.<code>``, where the code is the value stored in the database or the
cube (``status.certified``, ``award.extension``, ``partner.city_guard``…), so a column of codes
becomes a column of words with ``df["status"].map(labels_for("status", lang))``.

Some labels are templates with ``{named}`` fields (``footnote.suppressed`` takes ``threshold``);
:func:`label` fills them from keyword arguments. Names of counties, criteria, indicators and
places live in the reference data (``data/``) with their own ``_pl``/``_en`` fields;
:func:`county_name` wraps the county one because reports name counties everywhere.
"""
from __future__ import annotations

from typing import Any

from zpb_lib.reference import reference

LANGS = ("pl", "en")
DEFAULT_LANG = "pl"

# key: (Polish, English). Kept as pairs so that a missing translation is a syntax error.
_PAIRS: dict[str, tuple[str, str]] = {
    # --- names of the programme and its titles
    "title.programme": ("Zintegrowana Polityka Bezpieczeństwa",
                        "Integrated Safety Policy (Zintegrowana Polityka Bezpieczeństwa)"),
    "title.programme_short": ("ZPB", "ZPB"),
    "title.certificate_school": ("„Szkoła Promująca Bezpieczeństwo”", "“School Promoting Safety”"),
    "title.certificate_university": ("„Uczelnia Wyższa Promująca Bezpieczeństwo”",
                                     "“University Promoting Safety”"),
    "title.leader": ("„Lider Projektu Szkoła Promująca Bezpieczeństwo”",
                     "“Leader of the School Promoting Safety Project”"),
    "title.organiser": ("Komenda Wojewódzka Policji w Krakowie", "Małopolska Police Headquarters in Kraków"),
    # --- report titles
    "title.county_report": ("Raport powiatowy", "County report"),
    "title.school_report": ("Raport placówki", "Institution report"),
    "title.voivodeship_report": ("Raport wojewódzki", "Voivodeship report"),
    "title.index": ("Raporty edycji", "Reports of the edition"),
    "title.edition": ("Edycja {name}", "Edition {name}"),
    # --- section titles
    "section.key_figures": ("Najważniejsze liczby", "Key figures"),
    "section.audits_decisions": ("Audyty i decyzje w tej edycji", "Audits and decisions in this edition"),
    "section.weakest_criteria": ("Kryteria, w których placówki tracą najwięcej punktów",
                                 "Criteria where institutions lose most points"),
    "section.survey_indicators": ("Wskaźniki z ankiet", "Survey indicators"),
    "section.survey_changes": ("Zmiany między diagnozą a ewaluacją", "Changes between baseline and follow-up"),
    "section.renewals_due": ("Certyfikaty do odnowienia w ciągu 12 miesięcy",
                             "Certificates due for renewal within 12 months"),
    "section.map": ("Mapa województwa", "Map of the voivodeship"),
    "section.institutions": ("Placówki", "Institutions"),
    "section.counties": ("Powiaty", "Counties"),
    "section.status_timeline": ("Status i historia udziału w programie", "Status and timeline"),
    "section.audit_result": ("Wynik audytu", "Audit result"),
    "section.gap_list": ("Czego brakuje do kolejnego etapu", "What is missing for the next step"),
    "section.next_step": ("Następny krok", "Next step"),
    "section.control_result": ("Co potwierdził audyt kontrolny", "What the control audit confirmed"),
    "section.dangerous_places": ("Najczęściej wskazywane miejsca niebezpieczne",
                                 "Dangerous places named most often"),
    "section.action_plan": ("Realizacja Zintegrowanego Planu Działania", "Action plan progress"),
    "section.audit_ranking": ("Ranking audytów edycji", "Ranking of the edition's audits"),
    "section.ceremony_list": ("Lista wyróżnień do wręczenia podczas uroczystości",
                              "Awards to hand out at the ceremony"),
    "section.police_units": ("Aktywność jednostek Policji", "Police units' activity"),
    "section.trends": ("Zmiany w kolejnych edycjach", "Trends over editions"),
    "section.methodology": ("Metodologia", "Methodology"),
    "section.data_source": ("Źródło danych", "Data source"),
    # --- institution status on the ceremony day (zpb_lib.domain.scoring.lifecycle.STATUSES)
    "status.not_participating": ("nie uczestniczy", "not participating"),
    "status.stage1": ("etap I (przed pierwszym certyfikatem)", "stage I (before the first certificate)"),
    "status.certified": ("certyfikat", "certified"),
    "status.extended": ("certyfikat przedłużony", "certificate extended"),
    "status.expired": ("certyfikat wygasł", "certificate expired"),
    "status.leader": ("Lider Projektu", "Project Leader"),
    "status.left": ("zakończyła udział", "left the programme"),
    # --- the coordinator's desk: what is due (zpb_lib.services.due)
    "due_kind.certification_audit": ("audyt certyfikujący do zaplanowania", "certification audit to plan"),
    "due_kind.reaudit": ("reaudyt przed wygaśnięciem certyfikatu", "re-audit before the certificate runs out"),
    "due_kind.leader_candidate": ("kandydat do tytułu Lidera", "leader title candidate"),
    "due_kind.expiring": ("certyfikat wygasa", "certificate expiring"),
    "due_kind.survey_missing": ("brak ankiety", "survey missing"),
    "due_kind.award_unconfirmed": ("wyróżnienie niezapisane", "award not recorded"),
    "due_kind.contradiction": ("sprzeczność w danych", "contradiction in the data"),
    "due_detail.certification_audit": ("brak ważnego wyróżnienia na otwarcie okna audytów ({date}): audyt "
                                       "certyfikujący daje {award}",
                                       "no valid award when the audit window opens ({date}): a certification "
                                       "audit gives the {award}"),
    "due_detail.reaudit": ("{held} — ważność do {date}: ostatnie okno audytów przed jej końcem; "
                           "reaudyt daje: {award}",
                           "{held} valid until {date}: the last audit window before it runs out; a re-audit "
                           "gives the {award}"),
    "due_detail.leader_candidate": ("lat w programie: {years}, pozytywne audyty kontrolne: {controls}: "
                                    "audyt na {award}",
                                    "{years} years in the programme, {controls} positive control audit(s): "
                                    "audit for the {award}"),
    "due_detail.expiring": ("{award} — ważność do {date} (dni: {days})",
                            "{award} valid until {date} ({days} days left)"),
    "due_detail.survey_missing": ("{group}, {wave}: brak odpowiedzi", "{group}, {wave}: no responses"),
    "due_detail.award_unconfirmed": ("zasady przyznają: {award} ({total} z {max} pkt, {audit} z {date}); "
                                     "niezapisane", "the rules grant the {award} ({total} of {max} points, "
                                     "{audit} of {date}); not recorded"),
    "due.title": ("Mój powiat — co jest do zrobienia", "My county — what is due"),
    "due.sheet.institutions": ("Placówki", "Institutions"),
    "due.sheet.items": ("Do zrobienia", "Due"),
    "due.sheet.surveys": ("Ankiety", "Surveys"),
    "due.sheet.figures": ("Liczby", "Figures"),
    "due.title.institutions": ("Placówki, ich etap i to, co jest do zrobienia",
                               "Institutions, their stage and what is due"),
    "due.title.items": ("Co jest do zrobienia", "What is due"),
    "due.title.surveys": ("Ankiety edycji w placówkach uczestniczących",
                          "The edition's surveys in the institutions taking part"),
    "due.title.figures": ("Najważniejsze liczby (jak w raporcie powiatowym)", "Key figures (as in the county report)"),
    "due.col.kind": ("Co", "What"),
    "due.col.detail": ("Szczegóły", "Details"),
    "due.col.due": ("Do zrobienia", "Due"),
    "due.col.last_audit": ("Ostatni audyt — edycja", "Last audit — edition"),
    "due.col.last_audit_kind": ("Ostatni audyt — rodzaj", "Last audit — kind"),
    "due.col.pupils": ("Liczba uczniów (RSPO)", "Pupils (RSPO)"),
    "due.col.rate": ("Odsetek odpowiedzi", "Response rate"),
    "due.col.missing": ("Brak ankiety", "Missing"),
    "due.about.today": ("Stan na dzień", "As of"),
    "due.about.months": ("Certyfikaty wygasające w ciągu (mies.)", "Certificates expiring within (months)"),
    "due.about.figures_as_of": ("Liczby raportu powiatowego na dzień", "County report figures as of"),
    "due.about.counts": ("Do zrobienia — liczba pozycji", "Due — number of items"),
    # --- awards (zpb_lib.store.schema.AWARD_KINDS), short and full forms
    "award.certificate": ("certyfikat", "certificate"),
    "award.extension": ("przedłużenie certyfikatu", "extension"),
    "award.leader": ("tytuł Lidera", "leader title"),
    "award.university_certificate": ("certyfikat uczelni", "university certificate"),
    "award_full.certificate": ("certyfikat „Szkoła Promująca Bezpieczeństwo”",
                               "“School Promoting Safety” certificate"),
    "award_full.extension": ("przedłużenie certyfikatu „Szkoła Promująca Bezpieczeństwo”",
                             "extension of the “School Promoting Safety” certificate"),
    "award_full.leader": ("tytuł „Lider Projektu Szkoła Promująca Bezpieczeństwo”",
                          "title “Leader of the School Promoting Safety Project”"),
    "award_full.university_certificate": ("certyfikat „Uczelnia Wyższa Promująca Bezpieczeństwo”",
                                          "“University Promoting Safety” certificate"),
    # --- audits (zpb_lib.store.schema.AUDIT_KINDS) and decisions
    "audit_kind.certification": ("audyt certyfikujący", "certification audit"),
    "audit_kind.reaudit": ("reaudyt", "re-audit"),
    "audit_kind.control": ("audyt kontrolny", "control audit"),
    "audit_kind.leader": ("audyt na tytuł Lidera", "leader title audit"),
    "decision.granted": ("przyznano", "granted"),
    "decision.refused": ("nie przyznano", "not granted"),
    "decision.positive": ("pozytywny", "positive"),
    "decision.negative": ("negatywny", "negative"),
    # --- surveys
    "wave.baseline": ("diagnoza", "baseline"),
    "wave.follow-up": ("ewaluacja", "follow-up"),
    "wave_long.baseline": ("diagnoza (jesień)", "baseline (autumn)"),
    "wave_long.follow-up": ("ewaluacja (po realizacji planu)", "follow-up (after the action plan)"),
    "group.students": ("uczniowie", "students"),
    "group.parents": ("rodzice", "parents"),
    "group.teachers": ("nauczyciele", "teachers"),
    "group.all": ("wszyscy respondenci", "all respondents"),
    "level.voivodeship": ("województwo", "voivodeship"),
    "level.county": ("powiat", "county"),
    "level.institution": ("placówka", "institution"),
    "family.school": ("szkoła", "school"),
    "family.university": ("uczelnia", "university"),
    # --- action plan (zpb_lib.store.schema.ACTION_*), partners (PARTNER_KINDS; "none" from the cube)
    "action_area.violence": ("przemoc szkolna", "school violence"),
    "action_area.dangerous_places": ("miejsca niebezpieczne", "dangerous places"),
    "action_area.other": ("inne obszary", "other areas"),
    "action_kind.infrastructure": ("działania infrastrukturalne", "infrastructure"),
    "action_kind.prevention": ("działania profilaktyczne i integracyjne", "prevention and integration"),
    "action_status.planned": ("zaplanowane", "planned"),
    "action_status.in_progress": ("w trakcie realizacji", "in progress"),
    "action_status.done": ("zrealizowane", "done"),
    "action_status.dropped": ("zaniechane", "dropped"),
    "partner.police": ("Policja", "police"),
    "partner.city_guard": ("straż miejska", "city guard"),
    "partner.fire_brigade": ("straż pożarna", "fire brigade"),
    "partner.local_government": ("samorząd", "local government"),
    "partner.ngo": ("organizacja pozarządowa", "NGO"),
    "partner.parents": ("rodzice", "parents"),
    "partner.health": ("ochrona zdrowia", "health care"),
    "partner.other": ("inny partner", "other partner"),
    "partner.none": ("bez partnera", "no partner"),
    # --- banners, footnotes, legends, marks
    "banner.synthetic": ("Dane syntetyczne: ten raport powstał z danych demonstracyjnych wygenerowanych "
                         "komputerowo. Nie opisuje rzeczywistych szkół ani osób.",
                         "Synthetic data: this report was made from computer-generated demo data. "
                         "It does not describe real schools or people."),
    "footnote.suppressed": ("— mniej niż {threshold} respondentów albo wynik, z którego dałoby się odtworzyć "
                            "inny ukryty wynik: nie pokazujemy go, aby chronić anonimowość ankiet",
                            "— fewer than {threshold} respondents, or a figure from which another hidden one "
                            "could be worked out: not shown, to protect the anonymity of the survey"),
    "footnote.interval": ("Przedział ufności 95% (metoda Wilsona).", "95% confidence interval (Wilson method)."),
    "legend.significance": ("▲ wzrost, ▼ spadek — zmiana istotna statystycznie (p < 0,05); znak obok mówi, czy to "
                            "dobrze: + poprawa, – pogorszenie (np. ▲– to więcej uczniów doświadczających przemocy)",
                            "▲ increase, ▼ decrease — statistically significant change (p < 0.05); the sign next to "
                            "it says whether that is good: + improvement, – deterioration (e.g. ▲– means more "
                            "students experiencing violence)"),
    "mark.up": ("istotny wzrost", "significant increase"),
    "mark.down": ("istotny spadek", "significant decrease"),
    "mark.better": ("poprawa", "improvement"),
    "mark.worse": ("pogorszenie", "deterioration"),
    "methodology.text": (
        "Wskaźniki z ankiet to odsetki respondentów, którzy wybrali odpowiedzi wskazujące dane zjawisko "
        "(np. 4–5 na skali 1–5), z 95% przedziałami ufności Wilsona. Wyniki powiatu i województwa łączą "
        "odpowiedzi wszystkich respondentów (nie są średnią wyników placówek). Zmianę oznaczono jako istotną, "
        "gdy test dwóch proporcji daje p < 0,05. Nie pokazujemy wyników, gdy odpowiedziało mniej niż "
        "{threshold} osób. Punkty audytu liczone są według katalogu kryteriów obowiązującego w danej edycji. "
        "Placówka to uczestnik programu: szkoła albo zespół szkół razem ze szkołami, które nie uczestniczą "
        "samodzielnie (liczony raz, bo certyfikat otrzymuje szkoła albo cały zespół).",
        "Survey indicators are the shares of respondents who chose the answers describing the matter "
        "(e.g. 4–5 on a 1–5 scale), with Wilson 95% confidence intervals. County and voivodeship figures "
        "pool all respondents (they are not averages of institutions' results). A change is marked as "
        "significant when a two-proportion test gives p < 0.05. Results from fewer than {threshold} "
        "respondents are not shown. Audit points follow the criteria catalogue in force in the edition. "
        "An institution is a participant: a school, or a school complex together with its schools that do not "
        "take part on their own (counted once, as a certificate goes to a school or to the complex as a whole)."),
    # --- footer
    "footer.edition": ("Edycja", "Edition"),
    "footer.data_hash": ("Wersja danych", "Data version"),
    "footer.reference_hash": ("Wersja danych referencyjnych", "Reference data version"),
    "footer.generated": ("Wygenerowano", "Generated"),
    "footer.methodology": ("Metodologia", "Methodology"),
    # --- key figures
    "kf.institutions": ("Placówki", "Institutions"),
    "kf.participating": ("Uczestniczą w programie", "Taking part"),
    "kf.participation_rate": ("Odsetek uczestniczących", "Participation rate"),
    "kf.valid_awards": ("Ważne certyfikaty", "Valid certificates"),
    "kf.leaders": ("Liderzy Projektu", "Project Leaders"),
    "kf.audits": ("Audyty w tej edycji", "Audits in this edition"),
    "kf.granted": ("Przyznane wyróżnienia", "Awards granted"),
    "kf.vs_voivodeship": ("województwo: {value}", "voivodeship: {value}"),
    # --- table column headers
    "col.county": ("Powiat", "County"),
    "col.police_unit": ("Jednostka Policji", "Police unit"),
    "col.institution": ("Placówka", "Institution"),
    "col.kind": ("Typ placówki", "Type"),
    "col.status": ("Status", "Status"),
    "col.joined": ("W programie od", "In the programme since"),
    "col.valid_until": ("Ważny do", "Valid until"),
    "col.days_left": ("Dni do wygaśnięcia", "Days left"),
    "col.edition": ("Edycja", "Edition"),
    "col.audit_date": ("Data audytu", "Audit date"),
    "col.audit_kind": ("Rodzaj audytu", "Audit kind"),
    "col.points": ("Punkty", "Points"),
    "col.max_points": ("Maksimum", "Maximum"),
    "col.share": ("Odsetek punktów", "Share of points"),
    "col.threshold": ("Próg", "Threshold"),
    "col.points_short": ("Brakujące punkty", "Points short"),
    "col.points_lost": ("Utracone punkty", "Points lost"),
    "col.rank": ("Pozycja", "Rank"),
    "col.decision": ("Decyzja", "Decision"),
    "col.award": ("Wyróżnienie", "Award"),
    "col.criterion": ("Kryterium", "Criterion"),
    "col.area": ("Obszar", "Area"),
    "col.mandatory": ("Obowiązkowe", "Mandatory"),
    "col.indicator": ("Wskaźnik", "Indicator"),
    "col.group": ("Grupa", "Group"),
    "col.wave": ("Badanie", "Wave"),
    "col.respondents": ("Respondenci", "Respondents"),
    "col.value": ("Wynik", "Result"),
    "col.ci": ("Przedział ufności 95%", "95% confidence interval"),
    "col.change": ("Zmiana", "Change"),
    "col.place": ("Miejsce niebezpieczne", "Dangerous place"),
    "col.mentions": ("Wskazania", "Mentions"),
    "col.planned": ("Zaplanowane", "Planned"),
    "col.in_progress": ("W trakcie", "In progress"),
    "col.done": ("Zrealizowane", "Done"),
    "col.dropped": ("Zaniechane", "Dropped"),
    "col.total": ("Razem", "Total"),
    "col.partner": ("Partner", "Partner"),
    "col.count": ("Liczba", "Count"),
    "col.institutions": ("Placówki", "Institutions"),
    "col.participating": ("Uczestniczące", "Participating"),
    "col.participation_rate": ("Odsetek uczestniczących", "Participation rate"),
    "col.certified": ("Certyfikaty", "Certificates"),
    "col.extended": ("Przedłużenia", "Extensions"),
    "col.leaders": ("Liderzy", "Leaders"),
    "col.valid_awards": ("Ważne certyfikaty", "Valid certificates"),
    "col.audits": ("Audyty", "Audits"),
    "col.granted": ("Przyznane", "Granted"),
    "col.mean_share": ("Średni odsetek punktów", "Mean share of points"),
    "col.voivodeship": ("Województwo", "Voivodeship"),
    "col.difference": ("Różnica", "Difference"),
    # --- charts and maps
    "chart.share": ("Odsetek", "Share"),
    "chart.points_scored": ("uzyskane punkty", "points scored"),
    "chart.points_missing": ("brakujące do maksimum", "missing to the maximum"),
    "chart.points_of": ("{points} z {max} pkt", "{points} of {max} pts"),
    "chart.whiskers": ("kreski: 95% przedział ufności", "whiskers: 95% confidence interval"),
    "chart.suppressed": ("mniej niż {threshold} respondentów", "fewer than {threshold} respondents"),
    "chart.no_data": ("brak danych", "no data"),
    "chart.total": ("razem {text}", "total {text}"),
    "chart.from_to": ("od {a} ({x0}) do {b} ({x1})", "from {a} ({x0}) to {b} ({x1})"),
    "map.no_data": ("brak danych", "no data"),
    "map.alt": ("Mapa 22 powiatów województwa małopolskiego", "Map of the 22 counties of Małopolska"),
    "map.range": ("wartości od {lo} ({lo_name}) do {hi} ({hi_name})",
                  "values from {lo} ({lo_name}) to {hi} ({hi_name})"),
    "map.highlighted": ("wyróżniony {name}: {value}", "highlighted {name}: {value}"),
    "map.missing_count": ("brak danych dla {n} z {total} powiatów", "no data for {n} of the {total} counties"),
    # --- index page and navigation
    # --- small words
    # --- the edition's index page
    "index.title": ('Raporty ZPB — edycja {edition}', 'ZPB reports — edition {edition}'),
    "index.voivodeship": ('Województwo małopolskie', 'Małopolska voivodeship'),
    "index.other": ('Pozostałe', 'Other'),
    "index.county_details": ('TERYT {teryt} · {unit}', 'TERYT {teryt} · {unit}'),
    "index.kind_county": ('raport powiatu', 'county report'),
    "index.kind_school": ('placówka', 'institution'),
    "index.kind_voivodeship": ('raport wojewódzki', 'voivodeship report'),
    "index.status_failed": ('nie wygenerowano (błąd)', 'not produced (error)'),
    "index.status_missing": ('brak pliku raportu', 'report file missing'),
    "index.summary": ('Raporty: {total}; w tym z błędem: {failed}.', 'Reports: {total}; failed: {failed}.'),
    "index.failed_heading": ('Nie wszystkie raporty udało się wygenerować:', 'Some reports could not be produced:'),
    "index.generated": ('Wygenerowano', 'Generated'),
    "index.data_hash": ('wersja danych (skrót)', 'data version (hash)'),
    "index.synthetic": ('Dane syntetyczne (demonstracyjne): raporty nie opisują prawdziwych szkół ani powiatów.', 'Synthetic (demo) data: these reports describe no real school or county.'),
    "index.synthetic_short": ('Dane syntetyczne', 'Synthetic data'),
    "index.search_label": ('Szukaj raportu (powiat, placówka, numer RSPO, jednostka Policji, TERYT)', 'Find a report (county, institution, RSPO number, police unit, TERYT)'),
    "index.search_placeholder": ('np. Bochnia, 1201 albo numer RSPO', 'e.g. Bochnia, 1201 or an RSPO number'),
    "index.found": ('Znalezione raporty: {n}', 'Reports found: {n}'),
    "index.no_match": ('Brak raportów pasujących do wyszukiwania.', 'No report matches the search.'),
    # the link to this language's index from the other language's index (shown in this language)
    "index.this_language": ('Raporty po polsku', 'Reports in English'),
    "misc.voivodeship_name": ("województwo małopolskie", "Małopolska Voivodeship"),
    "misc.county_prefix": ("powiat", "county"),
    "misc.yes": ("tak", "yes"),
    "misc.no": ("nie", "no"),
    "misc.no_data": ("brak danych", "no data"),
    "misc.empty": ("Brak pozycji do pokazania.", "Nothing to show."),
    # --- the executed notebook kept with a report: where its images are
    "provenance.image": ("Rysunek jest w raporcie", "The figure is in the report"),
    # --- next step (zpb_lib.domain.scoring.explain.describe_next_step)
    "next.none": ("Placówka ma tytuł Lidera Projektu: przeszła wszystkie etapy programu, a tytuł jest "
                  "bezterminowy.",
                  "The institution holds the Project Leader title: it has passed every stage of the programme, "
                  "and the title is indefinite."),
    "next.control_confirmed": ("Audyt kontrolny z {date} potwierdził, że placówka spełnia wymagania programu: "
                               "{total} z {max} pkt (próg: {threshold} pkt).",
                               "The control audit of {date} confirmed that the institution meets the programme's "
                               "requirements: {total} of {max} points (threshold: {threshold})."),
    "next.control_failed": ("Audyt kontrolny z {date} nie potwierdził, że placówka spełnia wymagania programu: "
                            "{total} z {max} pkt (próg: {threshold} pkt).",
                            "The control audit of {date} did not confirm that the institution meets the "
                            "programme's requirements: {total} of {max} points (threshold: {threshold})."),
    "next.control_short": ("Do progu brakuje {n} pkt — {criteria}.",
                           "{n} points short of the threshold: {criteria}."),
    "next.control_short_one": ("Do progu brakuje 1 pkt — {criteria}.", "1 point short of the threshold: {criteria}."),
    "next.control_mandatory": ("Niespełnione kryteria obowiązkowe — {criteria}.",
                               "Mandatory criteria not met: {criteria}."),
    "next.keeps_leader": ("Placówka zachowuje tytuł Lidera Projektu: jest bezterminowy i to ostatni etap programu.",
                          "The institution keeps the Project Leader title: it is indefinite and the last stage "
                          "of the programme."),
    "next.keeps_certificate": ("Certyfikat placówki jest ważny do {date}.",
                               "The institution's certificate is valid until {date}."),
    "next.stage": ("Kolejny etap — {award} — placówka może otrzymać {audit} (co najmniej {points} pkt).",
                   "The next stage, the {award}, comes {audit} (at least {points} points)."),
    "audit_after.certification": ("po pozytywnym audycie certyfikującym", "after a positive certification audit"),
    "audit_after.reaudit": ("po pozytywnym reaudycie", "after a positive re-audit"),
    "audit_after.leader": ("po pozytywnym audycie na tytuł Lidera", "after a positive leader title audit"),
    "audit_after.control": ("po pozytywnym audycie kontrolnym", "after a positive control audit"),
    "next.and": (" i ", " and "),
    "next.suffice": ("Wynik punktowy wystarcza do: {award}.", "The points suffice for the {award}."),
    "next.short": ("Brakuje {n} pkt do: {award} — {criteria}.", "{n} points short of the {award}: {criteria}."),
    "next.short_one": ("Brakuje 1 pkt do: {award} — {criteria}.", "1 point short of the {award}: {criteria}."),
    "next.mandatory": ("Niespełnione kryteria obowiązkowe do: {award} — {criteria}.",
                       "Mandatory criteria not met for the {award}: {criteria}."),
    "next.also": ("Potrzeba jeszcze: {items}.", "Still needed: {items}."),
    "next.also_years_in_programme": ("wymaganej liczby lat udziału w programie", "the required years in the programme"),
    "next.also_positive_controls": ("pozytywnego audytu kontrolnego", "a positive control audit"),
    "col.baseline": ("Diagnoza", "Baseline"),
    "misc.catalogue": ("{family}, wersja {version}", "{family}, version {version}"),
    "misc.catalogue_school": ("dla szkół", "for schools"),
    "misc.catalogue_university": ("dla uczelni", "for universities"),
    "banner.synthetic_short": ("DANE SYNTETYCZNE", "SYNTHETIC DATA"),
    # --- decision reasons (codes of zpb_lib.domain.scoring)
    "reason.mandatory_failed": ("niespełnione kryteria obowiązkowe: {items}", "mandatory criteria not met: {items}"),
    "reason.required_failed": ("niespełnione kryteria wymagane: {items}", "required criteria not met: {items}"),
    "reason.points_short": ("brakuje {value} pkt do progu", "points short of the threshold: {value}"),
    "reason.years_short": ("brakuje {value} lat udziału w programie", "{value} more years in the programme needed"),
    "reason.controls_short": ("brakuje pozytywnych audytów kontrolnych: {value}",
                              "positive control audits missing: {value}"),
    "reason.requires": ("wymagane ważne wyróżnienie: {items}", "requires a valid {items}"),
    "reason.no_rule": ("brak reguły dla tego rodzaju audytu", "no rule for this kind of audit"),
    # --- report texts
    "misc.as_of": ("Stan na dzień uroczystości: {date}.", "As of the ceremony day: {date}."),
    "misc.rank_note": ("Pozycja w rankingu audytów edycji (bez audytów kontrolnych), osobno dla szkół i uczelni; "
                       "„ex aequo” oznacza równą liczbę punktów — regulamin nie rozstrzyga remisów.",
                       "Rank among the edition's audits (control audits excluded), schools and universities "
                       "separately; “ex aequo” marks equal points — the rules give no tie-break."),
    "misc.ex_aequo": ("ex aequo", "ex aequo"),
    "misc.no_audits": ("W tej edycji nie przeprowadzono audytów.", "No audits took place in this edition."),
    "misc.criteria_caption": ("Średnia liczba punktów za kryterium w audytach tej edycji (katalog {catalogue}, "
                              "audytów: {n})", "Mean points per criterion in this edition's audits "
                              "(catalogue {catalogue}, audits: {n})"),
    "misc.indicators_intro": ("Odsetki respondentów w badaniu ewaluacyjnym (po realizacji planu) z 95% przedziałami "
                              "ufności; zmiana względem diagnozy na początku roku szkolnego.",
                              "Shares of respondents in the follow-up survey (after the plan was carried out), "
                              "with 95% confidence intervals; change since the baseline at the start of the "
                              "school year."),
    "misc.indicators_intro_baseline": (
        "Diagnoza (jesień): odsetki respondentów w badaniu na początku roku szkolnego, przed realizacją planu, "
        "z 95% przedziałami ufności; porównania również dotyczą diagnozy. Badania ewaluacyjnego tej edycji "
        "jeszcze nie ma; po jego wczytaniu raport pokaże jego wyniki i zmianę względem diagnozy.",
        "Baseline (autumn): shares of respondents in the survey at the start of the school year, before the "
        "plan was carried out, with 95% confidence intervals; comparisons are with the baseline too. This "
        "edition has no follow-up survey yet; once it is imported, the report shows its results and the "
        "change since the baseline."),
    "misc.indicators_intro_mixed": (
        "Odsetki respondentów z 95% przedziałami ufności: w badaniu ewaluacyjnym (po realizacji planu) ze zmianą "
        "względem diagnozy, a dla grup, które nie mają jeszcze ewaluacji w tej edycji, w diagnozie (jesień) — "
        "rodzaj badania podaje podpis każdej tabeli.",
        "Shares of respondents with 95% confidence intervals: in the follow-up survey (after the plan was "
        "carried out) with the change since the baseline, and for groups without a follow-up in this edition "
        "yet, in the baseline (autumn) — each table's caption names the survey."),
    "misc.renewals_caption": ("Certyfikaty i przedłużenia wygasające w ciągu 12 miesięcy — {name}",
                              "Certificates and extensions expiring within 12 months — {name}"),
    "misc.institutions_caption": ("Placówki uczestniczące w tej edycji — {name}",
                                  "Institutions taking part in this edition — {name}"),
    "misc.indefinite": ("bezterminowo", "indefinitely"),
    "misc.awards_caption": ("Przyznane wyróżnienia", "Awards received"),
    "misc.audits_caption": ("Audyty", "Audits"),
    "misc.award_contested": ("nie liczy się do statusu: {reasons}", "does not count towards the status: {reasons}"),
    "misc.rules_until": ("ważne według zasad do {date}", "valid until {date} under the rules"),
    "misc.contested_note": ("Wyróżnienie zapisane w rejestrze, które przeczy zasadom programu (polecenie „zpb db "
                            "check” wymienia je jako problem), nie liczy się do statusu placówki.",
                            "An award recorded in the register that contradicts the programme's rules (the command "
                            "“zpb db check” lists it as a problem) does not count towards the institution's status."),
    "misc.contested_list": ("Wyróżnienia zapisane w rejestrze, które przeczą zasadom programu i nie liczą się do "
                            "statusu (polecenie „zpb db check” wymienia je jako problemy): {items}.",
                            "Awards recorded in the register that contradict the programme's rules and do not count "
                            "towards the status (the command “zpb db check” lists them as problems): {items}."),
    # --- why an award does not count (codes of zpb_lib.domain.scoring.lifecycle.CONTESTING)
    "contest.wrong_kind": ("zasady nie przewidują takiego wyróżnienia", "the rules give no such award"),
    "contest.not_granted": ("audyt, z którego pochodzi, nie dał go", "the audit it comes from did not give it"),
    "contest.not_participating": ("placówka nie uczestniczyła w programie w tej edycji",
                                  "the institution did not take part in that edition"),
    "contest.requires": ("placówka nie miała ważnego wyróżnienia, którego ono wymaga",
                         "the institution did not hold the valid award it requires"),
    "contest.years_short": ("placówka nie miała wymaganej liczby lat udziału w programie",
                            "the institution lacked the years in the programme it requires"),
    "contest.audit_mismatch": ("powiązany audyt dotyczy innej placówki lub edycji",
                               "its audit is of another institution or edition"),
    "misc.not_audited": ("Placówka nie miała jeszcze audytu.", "The institution has not been audited yet."),
    "misc.audit_summary": ("Audyt z {date}: {total} z {max} pkt. Decyzja: {decision}.",
                           "Audit of {date}: {total} of {max} points. Decision: {decision}."),
    "misc.criteria_table_caption": ("Punkty według kryteriów (katalog {catalogue})",
                                    "Points per criterion (catalogue {catalogue})"),
    "misc.gap_caption": ("Kryteria z brakującymi punktami, od największej straty",
                         "Criteria with points missing, largest first"),
    "misc.this_institution": ("ta placówka", "this institution"),
    "misc.no_survey": ("Brak ankiet tej placówki w tej edycji.", "No surveys of this institution in this edition."),
    "misc.places_caption": ("Miejsca wskazywane jako niebezpieczne — {group}, {wave}",
                            "Places named as dangerous — {group}, {wave}"),
    "misc.places_note": ("Odsetki spośród respondentów, którzy odpowiedzieli na pytanie o miejsca ({n}), "
                         "także odpowiedzią „Nigdzie — nie ma takich miejsc”; pominięte pytanie się nie liczy.",
                         "Shares of the respondents who answered the question on places ({n}), the answer "
                         "“Nowhere — there are no such places” included; a skipped question does not count."),
    "misc.no_plan": ("Brak Zintegrowanego Planu Działania w tej edycji.", "No action plan in this edition."),
    "misc.plan_caption": ("Działania według: {by}", "Actions by {by}"),
    "misc.plan_summary": ("Zrealizowano {done} z {total} zaplanowanych działań ({share}).",
                          "{done} of {total} planned actions carried out ({share})."),
    "misc.suspension_note": ("W latach szkolnych 2019/2020–2021/2022 program był zawieszony (COVID-19); "
                             "te lata nie mają edycji.",
                             "The programme was suspended in the school years 2019/2020–2021/2022 (COVID-19); "
                             "those years have no edition."),
    "misc.ceremony_intro": ("Uroczystość wręczenia: {date}, Kraków.", "Ceremony: {date}, Kraków."),
    "chart.weakest_title": ("Gdzie placówki tracą punkty — {name}", "Where institutions lose points — {name}"),
    "chart.indicators_title": ("Wskaźniki bezpieczeństwa — {group}: {name}", "Safety indicators — {group}: {name}"),
    "chart.trend_safe_title": ("Uczniowie czujący się bezpiecznie w szkole w kolejnych edycjach — {name}",
                               "Students feeling safe at school over editions — {name}"),
    "chart.map_participation_title": ("Odsetek placówek uczestniczących w programie",
                                      "Share of institutions taking part in the programme"),
    "chart.criteria_title": ("Punkty za kryteria — {kind}, edycja {edition}",
                             "Points per criterion — {kind}, edition {edition}"),
    "chart.places_title": ("Miejsca niebezpieczne — {group}", "Dangerous places — {group}"),
    "chart.trend_programme_title": ("Program w kolejnych edycjach", "The programme over editions"),
    "chart.map_safe_title": ("Uczniowie czujący się bezpiecznie w szkole, według powiatów",
                             "Students feeling safe at school, by county"),
    "col.locality": ("Miejscowość", "Locality"),
    "col.years_in_programme": ("Lata w programie", "Years in the programme"),
    "col.awarded_on": ("Data przyznania", "Awarded on"),
    "col.description": ("Opis", "Description"),
    "col.action_kind": ("Rodzaj działania", "Kind of action"),
    "col.done_share": ("Odsetek zrealizowanych", "Share done"),
    "col.counties_served": ("Powiaty", "Counties served"),
    "col.renewals_due": ("Do odnowienia w 12 mies.", "Renewals due in 12 months"),
    # --- institutions as people identify them: schools by RSPO number, universities by POL-on id
    "col.identifier": ("RSPO / POL-on", "RSPO / POL-on"),
    "col.in_register": ("W wykazie RSPO", "In RSPO register"),
    "misc.not_in_register": ("nie ma w ostatnim wykazie RSPO", "not in the latest RSPO register"),
    "footnote.not_in_register": ("* — placówki nie ma w ostatnim wykazie RSPO.",
                                 "* — the institution is not in the latest RSPO register."),
    "error.county_missing": (
        "Nie podano powiatu: ustaw parametr county na kod TERYT albo nazwę powiatu (papermill: -p county 1201).",
        "No county given: set the parameter county to a county's TERYT code or name (papermill: -p county 1201)."),
    "error.institution_missing": (
        "Nie podano placówki: ustaw parametr institution na numer RSPO szkoły albo identyfikator POL-on "
        "uczelni (papermill: -p institution NUMER_RSPO).",
        "No institution given: set the parameter institution to a school's RSPO number or a university's "
        "POL-on id (papermill: -p institution NUMER_RSPO)."),
    "error.institution_invalid": (
        "Parametr institution = {value!r} nie jest numerem RSPO (cyfry, np. 123456) ani identyfikatorem POL-on "
        "(UUID).",
        "The parameter institution = {value!r} is neither an RSPO number (digits, e.g. 123456) nor a POL-on id "
        "(a UUID)."),
    "error.institution_unknown": (
        "Nie ma placówki {label} w danych edycji {edition} (sprawdź numer RSPO albo identyfikator POL-on).",
        "There is no institution {label} in the data of edition {edition} (check the RSPO number or POL-on id)."),
    # --- school complexes (zpb_lib.domain.complexes): one participant with the schools taking part with it
    "section.complex_members": ("Szkoły zespołu", "Schools of the complex"),
    "col.complex": ("Zespół szkół", "School complex"),
    "col.complex_name": ("Nazwa zespołu szkół", "School complex's name"),
    "col.takes_part": ("Udział w programie", "Taking part"),
    "col.holder": ("Dotyczy", "Of"),
    "col.counted": ("Liczona jako placówka", "Counted as an institution"),
    "col.complex_schools": ("Szkoły zespołu uczestniczące razem z nim", "Schools of the complex taking part with it"),
    "misc.complex_label": ("zespołu „{name}” ({ident})", "the complex “{name}” ({ident})"),
    "misc.complex_represented": (
        "Ta szkoła należy do {complex} i uczestniczy w programie razem z nim: status, wyróżnienia, audyty, ankiety "
        "i plan działań w tym raporcie są zespołu.",
        "This school belongs to {complex} and takes part in the programme together with it: the status, awards, "
        "audits, surveys and action plan in this report are the complex's."),
    "misc.complex_on_own": (
        "Ta szkoła należy do {complex}, ale uczestniczy w programie samodzielnie: status, wyróżnienia, audyty, "
        "ankiety i plan działań w tym raporcie są jej własne.",
        "This school belongs to {complex} but takes part in the programme on its own: the status, awards, audits, "
        "surveys and action plan in this report are its own."),
    "misc.complex_member": ("Ta szkoła należy do {complex}.", "This school belongs to {complex}."),
    "misc.complex_intro": (
        "Zespół szkół uczestniczy w programie jako jedna placówka razem ze swoimi szkołami, które nie uczestniczą "
        "samodzielnie: jego audyt, ankiety (odpowiedzi ze wszystkich tych szkół), plan działań i wyróżnienia są "
        "także ich.",
        "The school complex takes part in the programme as one institution together with its schools that do not "
        "take part on their own: its audit, surveys (the answers from all those schools), action plan and awards "
        "are theirs too."),
    "misc.complex_no_members": (
        "W bazie danych nie ma szkół tego zespołu (wczytany wykaz RSPO ich nie zawierał): zespół liczy się jako "
        "jedna placówka.",
        "The database holds none of this complex's schools (the RSPO export read did not list them): the complex "
        "counts as one institution."),
    "misc.part_of_complex": ("w zespole: {name} ({ident})", "in the complex: {name} ({ident})"),
    "misc.with_complex": ("razem z zespołem", "with the complex"),
    "misc.on_own": ("samodzielnie", "on its own"),
    "misc.status_via_complex": ("{status} (zespołu)", "{status} (the complex's)"),
    "misc.in_complex": ("{name} — w zespole {ident}", "{name} — in complex {ident}"),
    "misc.complex_covers": ("{name} — obejmuje: {schools}", "{name} — covers: {schools}"),
    "misc.holder_school": ("ta szkoła", "this school"),
    "misc.holder_complex": ("zespół", "the complex"),
    "misc.this_complex": ("zespół (wszystkie jego szkoły)", "the complex (all its schools)"),
    "misc.survey_complex": (
        "Wyniki ankiet zespołu łączą odpowiedzi ze wszystkich jego szkół, które uczestniczą w programie razem z nim.",
        "The complex's survey results pool the answers from all its schools that take part together with it."),
    "footnote.complex": (
        "Zespół szkół liczy się razem ze szkołami, które uczestniczą z nim, jako jedna placówka; taka szkoła bez "
        "własnego ważnego wyróżnienia ma status zespołu (oznaczony „zespołu”), a certyfikat liczy się raz, u zespołu.",
        "A school complex counts as one institution together with the schools taking part with it; such a school "
        "without a valid award of its own has the complex's status (marked “the complex's”), and a certificate "
        "counts once, for the complex."),
    "footnote.complex_count": (
        "Zespół szkół liczy się razem ze szkołami, które uczestniczą z nim, jako jedna placówka.",
        "A school complex counts as one institution together with the schools taking part with it."),
    "footnote.complex_ceremony": (
        "Wyróżnienie zespołu szkół obejmuje jego szkoły, które uczestniczą w programie razem z nim; wręcza się je raz, "
        "zespołowi.",
        "A school complex's award covers its schools that take part together with it; it is handed out once, to "
        "the complex."),
    "footnote.complex_renewal": (
        "Certyfikat zespołu szkół obejmuje jego szkoły, które uczestniczą w programie razem z nim; odnawia go zespół.",
        "A school complex's certificate covers its schools that take part together with it; the complex renews it."),
    # --- XLSX export (zpb export): column headers, sheet names, the "Informacje"/"About" sheet
    "col.audit_id": ("ID audytu", "Audit ID"),
    "col.teryt": ("TERYT powiatu", "County TERYT code"),
    "col.catalogue": ("Katalog kryteriów", "Criteria catalogue"),
    "col.criterion_code": ("Kod kryterium", "Criterion code"),
    "col.reasons": ("Powody decyzji", "Reasons for the decision"),
    "col.level": ("Poziom", "Level"),
    "col.name": ("Nazwa", "Name"),
    "col.ci_low": ("Przedział ufności 95% — od", "95% confidence interval — from"),
    "col.ci_high": ("Przedział ufności 95% — do", "95% confidence interval — to"),
    "col.note": ("Uwagi", "Notes"),
    "xlsx.sheet.decisions": ("Decyzje", "Decisions"),
    "xlsx.sheet.points": ("Punkty za kryteria", "Points per criterion"),
    "xlsx.sheet.indicators": ("Wskaźniki z ankiet", "Survey indicators"),
    "xlsx.sheet.renewals": ("Odnowienia", "Renewals due"),
    "xlsx.sheet.institutions": ("Placówki", "Institutions"),
    "xlsx.sheet.about": ("Informacje", "About"),
    "xlsx.title.points": ("Punkty za kryteria w audytach tej edycji", "Points per criterion in this edition's audits"),
    "xlsx.title.results": ("Wyniki programu", "Programme results"),
    "xlsx.provenance": ("{edition} · stan na {as_of} · wersja danych {data_hash} · metodologia i źródło danych: "
                        "arkusz „{sheet}”",
                        "{edition} · as of {as_of} · data version {data_hash} · methodology and data source: "
                        "sheet “{sheet}”"),
    "xlsx.scope": ("Zakres", "Scope"),
    "xlsx.scope_all": ("całe województwo małopolskie (wszystkie powiaty)",
                      "the whole Małopolska Voivodeship (all counties)"),
    "xlsx.scope_county": ("{name} (TERYT {teryt}); wskaźniki z ankiet także dla województwa, do porównania",
                          "{name} (TERYT {teryt}); survey indicators also for the voivodeship, for comparison"),
    "xlsx.as_of": ("Stan na dzień", "As of"),
    "xlsx.sheets": ("Arkusze", "Sheets"),
    "xlsx.rows": ("wierszy: {n}", "rows: {n}"),
    "xlsx.about.decisions": ("Każdy audyt tej edycji w jednym wierszu: placówka, rodzaj i data audytu, punkty wobec "
                             "maksimum i progu, decyzja i jej powody.",
                             "Every audit of this edition in one row: institution, audit kind and date, points "
                             "against the maximum and the threshold, the decision and its reasons."),
    "xlsx.about.points": ("Punkty za każde kryterium każdego audytu tej edycji: jeden wiersz na audyt i kryterium, "
                          "aby filtrować po kryterium, obszarze lub powiecie i budować tabele przestawne (katalogi "
                          "szkół i uczelni mają różne kryteria). Z arkuszem decyzji łączy go ID audytu.",
                          "Points for every criterion of every audit of this edition: one row per audit and "
                          "criterion, to filter by criterion, area or county and to build pivot tables (school and "
                          "university catalogues have different criteria). The audit ID links it to the decisions."),
    "xlsx.about.indicators": ("Wskaźniki z ankiet tej edycji dla województwa, powiatów i placówek: diagnoza i "
                              "ewaluacja, trzy grupy respondentów, odsetek z 95% przedziałem ufności; przy "
                              "ewaluacji zmiana od diagnozy (w punktach procentowych), wartość p testu dwóch "
                              "proporcji i czy zmiana jest istotna (p < 0,05) — jak w raportach.",
                              "Survey indicators of this edition for the voivodeship, counties and institutions: "
                              "baseline and follow-up, three groups of respondents, share with its 95% "
                              "confidence interval; on follow-up rows the change since the baseline (percentage "
                              "points), the two-proportion test's p-value and whether the change is significant "
                              "(p < 0.05) — as in the reports."),
    "xlsx.title.institutions": ("Placówki i ich status w tej edycji", "Institutions and their status in this edition"),
    "xlsx.about.institutions": (
        "Każda placówka istniejąca w tej edycji albo w niej uczestnicząca: jej zespół szkół, czy liczy się jako "
        "placówka (szkoła zespołu, która uczestniczy razem z nim, liczy się w zespole), udział w programie i status "
        "w dniu uroczystości. Wiersze z „tak” w kolumnie „Liczona jako placówka” dają liczby placówek z raportów.",
        "Every institution existing in this edition or taking part in it: its school complex, whether it counts as "
        "an institution (a school of a complex taking part with it counts in the complex), its taking part and its "
        "status on the ceremony day. The rows with “yes” under “Counted as an institution” give the reports' "
        "numbers of institutions."),
    "col.change_since_baseline": ("Zmiana od diagnozy (p.p.)", "Change since baseline (pp)"),
    "col.change_p_value": ("Wartość p zmiany", "p-value of the change"),
    "col.significant_change": ("Istotna zmiana (p < 0,05)", "Significant change (p < 0.05)"),
    "xlsx.change_better": ("tak — poprawa", "yes — for the better"),
    "xlsx.change_worse": ("tak — pogorszenie", "yes — for the worse"),
    "xlsx.change_none": ("nie", "no"),
    "xlsx.about.renewals": ("Certyfikaty i przedłużenia, których ważność kończy się w ciągu 12 miesięcy od dnia "
                            "uroczystości.",
                            "Certificates and extensions whose validity ends within 12 months of the ceremony day."),
    "xlsx.suppression": ("Ochrona anonimowości ankiet", "Survey anonymity"),
    "xlsx.suppression_text": ("Wyniku ankiety opartego na odpowiedziach mniej niż {threshold} respondentów nie "
                              "pokazujemy: komórki wyniku i przedziału ufności są puste, a kolumna „Uwagi” podaje "
                              "powód. Niektóre inne wyniki ukryto dodatkowo, aby ukrytego wyniku nie dało się "
                              "odtworzyć przez odejmowanie (np. wynik powiatu minus wyniki pozostałych placówek). "
                              "Liczba respondentów jest widoczna zawsze.",
                              "A survey figure based on the answers of fewer than {threshold} respondents is not "
                              "shown: the result and interval cells are empty and the “Notes” column gives the "
                              "reason. Some other figures are hidden too, so that a hidden figure cannot be worked "
                              "out by subtraction (e.g. the county's figure minus the other institutions'). The "
                              "number of respondents is always shown."),
    "xlsx.suppressed_complementary": ("ukryty, aby nie dało się odtworzyć innego ukrytego wyniku",
                                      "hidden so that another hidden figure cannot be worked out"),
    "xlsx.formats": ("Formaty", "Formats"),
    "xlsx.formats_text": ("Liczby, odsetki i daty są zapisane jako wartości, nie tekst: można je sortować, filtrować "
                          "i przeliczać. Sposób wyświetlania (np. przecinek dziesiętny, separator tysięcy) zależy "
                          "od ustawień regionalnych Excela. W arkuszach z danymi nagłówki tabel są w wierszu 4.",
                          "Numbers, shares and dates are stored as values, not text: they sort, filter and "
                          "calculate. How they are displayed (decimal mark, thousands separator) follows the "
                          "regional settings of Excel. On the data sheets the table headers are in row 4."),
    # --- the JupyterLab explorer (zpb_lib.explore)
    "explore.title": ("Eksplorator danych ZPB", "ZPB data explorer"),
    "explore.intro": ("Wybierz edycję, powiat, jednostkę Policji, typ placówki i status; kafelki, tabela, mapa, "
                      "szczegóły placówki i symulacja „co jeśli” pokazują wybrane dane.",
                      "Choose an edition, county, police unit, institution type and status; the tiles, table, "
                      "map, institution details and the what-if simulation follow the choice."),
    "explore.edition": ("Edycja", "Edition"),
    "explore.county": ("Powiat", "County"),
    "explore.police_unit": ("Jednostka Policji", "Police unit"),
    "explore.kind": ("Typ placówki", "Type"),
    "explore.status": ("Status", "Status"),
    "explore.all_counties": ("wszystkie powiaty", "all counties"),
    "explore.all_units": ("wszystkie jednostki", "all units"),
    "explore.all_kinds": ("wszystkie typy", "all types"),
    "explore.status_in_edition": ("uczestniczące w edycji", "taking part in the edition"),
    "explore.status_all": ("wszystkie istniejące", "all existing"),
    "explore.measure": ("Wskaźnik", "Measure"),
    "explore.group": ("Ankieta: grupa", "Survey: group"),
    "explore.survey_measure": ("Ankieta: {indicator}", "Survey: {indicator}"),
    "explore.scope_voivodeship": ("całe województwo", "whole voivodeship"),
    "explore.scope_unit": ("{unit} ({counties})", "{unit} ({counties})"),
    "explore.tab_table": ("Placówki", "Institutions"),
    "explore.tab_map": ("Mapa", "Map"),
    "explore.tab_detail": ("Szczegóły placówki", "Institution details"),
    "explore.tab_whatif": ("Co jeśli?", "What if?"),
    "explore.sort_by": ("Sortuj według", "Sort by"),
    "explore.descending": ("malejąco", "descending"),
    "explore.prev": ("◀ Poprzednie", "◀ Previous"),
    "explore.next": ("Następne ▶", "Next ▶"),
    "explore.rows": ("wiersze {first}–{last} z {total}", "rows {first}–{last} of {total}"),
    "explore.no_rows": ("brak placówek", "no institutions"),
    "explore.table_caption": ("Placówki — {scope}", "Institutions — {scope}"),
    "explore.survey_column": ("{indicator} — {group} (ewaluacja)", "{indicator} — {group} (follow-up)"),
    "explore.audit_column": ("Audyt w edycji", "Audit in the edition"),
    "explore.in_table": ("Placówki w tabeli", "Institutions in the table"),
    "explore.survey_tile": ("{indicator} — {group}", "{indicator} — {group}"),
    "explore.survey_tile_note": ("PU 95%: {ci}; n = {n}; ewaluacja", "95% CI: {ci}; n = {n}; follow-up"),
    "explore.survey_tile_unit": ("wyniki ankiet są liczone dla powiatów: wybierz powiat",
                                 "survey results are pooled by county: choose a county"),
    "explore.survey_tile_kinds": ("ankiety: wszystkie typy placówek", "surveys: all types of institution"),
    "explore.choose_institution": ("— wybierz placówkę —", "— choose an institution —"),
    "explore.institution": ("Placówka", "Institution"),
    "explore.detail_prompt": ("Wybierz placówkę z listy (lista obejmuje placówki z tabeli), aby zobaczyć wynik audytu, "
                              "listę braków, wskaźniki z ankiet i historię wyróżnień.",
                              "Choose an institution from the list (it holds the institutions of the table) to see "
                              "its audit result, gap list, survey indicators and awards timeline."),
    "explore.map_title": ("{measure} — edycja {edition}", "{measure} — edition {edition}"),
    "explore.map_kind": ("{measure}: {kind}", "{measure}: {kind}"),
    "explore.map_survey_caption": ("Ankieta ewaluacyjna, grupa: {group}. Powiaty z wynikiem ukrytym lub bez ankiet "
                                   "są szare (brak danych).",
                                   "Follow-up survey, group: {group}. Counties whose result is withheld or who "
                                   "have no survey are grey (no data)."),
    "explore.map_caption": ("Stan na dzień uroczystości: {date}.", "As of the ceremony day: {date}."),
    "explore.whatif_intro": ("Zmień progi punktowe lub maksymalne punkty za kryteria: decyzje audytów tej edycji "
                             "zostaną przeliczone od razu, z zapisanych punktów. Dane w bazie nie są zmieniane.",
                             "Change the point thresholds or the criteria maxima: the decisions of this edition's "
                             "audits are recomputed at once from the stored points. The database is not changed."),
    "explore.whatif_family": ("{family}: zasady „{source}”, katalog {catalogue} (maks. {max} pkt)",
                              "{family}: rules “{source}”, catalogue {catalogue} (max. {max} points)"),
    "explore.whatif_thresholds": ("Progi punktowe", "Point thresholds"),
    "explore.whatif_maxima": ("Maksymalne punkty za kryteria", "Criteria maxima"),
    "explore.whatif_control": ("audyt kontrolny pozytywny od", "positive control audit from"),
    "explore.whatif_reset": ("Przywróć zasady z plików", "Restore the rules from the files"),
    "explore.whatif_none": ("Brak zmian: zasady jak w plikach reguł i katalogów.",
                            "No changes: the rules as in the rule and catalogue files."),
    "explore.whatif_changes": ("Symulowane zmiany: {changes}.", "Simulated changes: {changes}."),
    "explore.whatif_threshold_change": ("{rule}: próg {new} pkt (było {old})", "{rule}: threshold {new} (was {old})"),
    "explore.whatif_max_change": ("{criterion}: maks. {new} pkt (było {old})", "{criterion}: max. {new} (was {old})"),
    "explore.whatif_warning": ("Uwaga: próg {rule} ({value} pkt) przekracza maksimum katalogu ({max} pkt) — nikt go "
                               "nie osiągnie.",
                               "Note: the {rule} threshold ({value}) exceeds the catalogue's maximum ({max}) — "
                               "nobody can reach it."),
    "explore.whatif_counts": ("Decyzje audytów edycji — {scope}", "Decisions of the edition's audits — {scope}"),
    "explore.whatif_before": ("Obecne zasady", "Current rules"),
    "explore.whatif_after": ("Co jeśli", "What if"),
    "explore.whatif_change": ("Zmiana", "Change"),
    "explore.whatif_positive_controls": ("pozytywne audyty kontrolne", "positive control audits"),
    "explore.whatif_flips": ("Placówki, których decyzja się zmienia ({n})", "Institutions whose decision changes ({n})"),
    "explore.whatif_no_flips": ("Żadna decyzja się nie zmienia.", "No decision changes."),
    "explore.whatif_per_county": ("Przyznane wyróżnienia według powiatów (bez audytów kontrolnych)",
                                  "Awards granted by county (control audits excluded)"),
    "explore.whatif_no_audits": ("W tej edycji i w tym wyborze nie było audytów.",
                                 "There were no audits in this edition and selection."),
    "explore.arrow": ("{a} → {b}", "{a} → {b}"),
    "explore.export": ("Tabela do Excela", "Table to Excel"),
    "explore.exported": ("Zapisano tabelę (wierszy: {n}) w pliku:", "Table saved (rows: {n}) to:"),
    "explore.build_county": ("Raport HTML: {name}", "HTML report: {name}"),
    "explore.build_county_none": ("Raport HTML powiatu (wybierz powiat)", "County HTML report (choose a county)"),
    "explore.build_institution": ("Raport HTML placówki", "Institution HTML report"),
    "explore.building": ("Trwa budowanie raportu: {name}…", "Building the report: {name}…"),
    "explore.built": ("Raport gotowy ({seconds} s):", "Report ready ({seconds} s):"),
    "explore.build_failed": ("Nie udało się zbudować raportu {name}: {error}", "The report {name} failed: {error}"),
    "explore.open": ("otwórz", "open"),
    "explore.loading": ("Wczytywanie danych edycji {edition}…", "Loading the data of edition {edition}…"),
    "explore.loaded": ("Dane edycji {edition} wczytane ({seconds} s).", "Data of edition {edition} loaded ({seconds} s)."),
    "explore.sheet_table": ("Placówki", "Institutions"),
    "explore.sheet_about": ("Informacje", "About"),
    "explore.about_filters": ("Wybór", "Selection"),
    "explore.about_generated": ("Wygenerowano", "Generated"),
    "explore.about_database": ("Baza danych", "Database"),
    "explore.about_suppressed": ("Puste pola wyniku ankiety: mniej niż {threshold} respondentów albo wynik ukryty, "
                                 "aby nie dało się go odtworzyć z innych (ochrona anonimowości).",
                                 "Empty survey results: fewer than {threshold} respondents, or withheld so that "
                                 "it cannot be derived from others (anonymity)."),
    "explore.reasons": ("Powody decyzji (co jeśli)", "Reasons (what if)"),
    "explore.col_teryt": ("TERYT powiatu", "County TERYT code"),
    "explore.col_ci_low": ("przedział ufności 95% od", "95% confidence interval from"),
    "explore.col_ci_high": ("przedział ufności 95% do", "95% confidence interval to"),
    "explore.about_as_of": ("Stan na dzień uroczystości", "As of the ceremony day"),
    "explore.about_rows": ("Liczba wierszy", "Rows"),
    "explore.families.school": ("Szkoły", "Schools"),
    "explore.families.university": ("Uczelnie", "Universities"),
    # --- reports sent to the schools by e-mail (zpb_lib.services.delivery): {name}, {edition} and {unit}
    # are filled in, in the default texts and in a coordinator's own
    "delivery.subject": ("Raport programu ZPB, edycja {edition}: {name}",
                         "ZPB programme report, edition {edition}: {name}"),
    "delivery.text": (
        "Dzień dobry,\n\n"
        "w załączniku przesyłamy raport placówki {name} z edycji {edition} programu Zintegrowana Polityka "
        "Bezpieczeństwa: wyniki ankiet, audytów i planu działań placówki na tle powiatu i województwa.\n\n"
        "Prosimy o przekazanie go dyrekcji i zespołowi ds. bezpieczeństwa.\n\n"
        "Z poważaniem\n{unit}\n",
        "Good morning,\n\n"
        "attached is the report of {name} for edition {edition} of the programme Zintegrowana Polityka "
        "Bezpieczeństwa (Integrated Safety Policy): the results of the school's surveys, audits and action plan "
        "beside those of its county and the voivodeship.\n\n"
        "Please pass it on to the head and the school's safety team.\n\n"
        "Kind regards\n{unit}\n"),
}

LABELS: dict[str, dict[str, str]] = {key: {"pl": pl, "en": en} for key, (pl, en) in _PAIRS.items()}


def label(key: str, lang: str = DEFAULT_LANG, **values: Any) -> str:
    """The label ``key`` in ``lang``; ``{named}`` fields are filled from ``values``."""
    try:
        text = LABELS[key][lang]
    except KeyError:
        raise KeyError(f"no label {key!r} in language {lang!r}") from None
    return text.format(**values) if values else text


def labels_for(prefix: str, lang: str = DEFAULT_LANG) -> dict[str, str]:
    """Codes under ``prefix`` and their labels, e.g. ``labels_for("status")["certified"]``."""
    head = prefix.rstrip(".") + "."
    found = {k[len(head):]: v[lang] for k, v in LABELS.items() if k.startswith(head) and lang in v}
    if not found:
        raise KeyError(f"no labels under {prefix!r} in language {lang!r}")
    return found


def reasons_text(encoded: Any, lang: str = DEFAULT_LANG, ref: Any = None, catalogue: str | None = None) -> str:
    """Decision reasons (the ``reasons`` column of the cube's audits) in words, e.g. "brakuje 3 pkt
    do progu; niespełnione kryteria obowiązkowe: C1 …"; with ``ref`` and ``catalogue`` failed
    criteria are named by their titles. Empty when there are none."""
    # core.fmt and scoring.lifecycle pull pandas and the rules: labels itself stays light
    from zpb_lib.core.fmt import is_missing
    from zpb_lib.domain.scoring.lifecycle import parse_reasons

    if is_missing(encoded) or not encoded:
        return ""
    awards = labels_for("award", lang)
    parts = []
    for code, value, items in parse_reasons(str(encoded)):
        if items and ref is not None and catalogue and code in ("mandatory_failed", "required_failed"):
            cat = ref.catalogues[catalogue]
            items = tuple(f"{c} {getattr(cat.criterion(c), f'title_{lang}')}" for c in items)
        if code == "requires":
            items = tuple(awards.get(i, i) for i in items)
        parts.append(label(f"reason.{code}", lang, value=value, items=", ".join(items)))
    return "; ".join(parts)


def page_title(kind: str, subject: str, edition: str, lang: str = DEFAULT_LANG) -> str:
    """A report's page title (``<title>``, the printed running header, the index): "Raport powiatowy —
    powiat bocheński — 2025/2026". ``kind`` is voivodeship, county or school; ``subject`` what the
    report is about (the voivodeship's or county's name from :func:`county_name`, the institution's
    name). The build and the report itself (for plain papermill and nbconvert) both name pages so."""
    return f"{label(f'title.{kind}_report', lang)} — {subject} — {edition}"


def county_name(teryt: str, lang: str = DEFAULT_LANG, ref: Any = None) -> str:
    """A county as a reader names it: "powiat bocheński", "m. Kraków" / "Bochnia County",
    "City of Kraków"; the voivodeship code "12" gives the voivodeship's name."""
    if str(teryt) == "12":
        return label("misc.voivodeship_name", lang)
    if ref is None:
        ref = reference()
    try:
        c = ref.counties[str(teryt)]
    except KeyError:
        raise KeyError(f"unknown county TERYT {teryt!r}") from None
    if lang == "en":
        return c.name_en
    label("misc.county_prefix", lang)  # validates lang
    return c.name if c.kind == "city" else f"powiat {c.name}"
