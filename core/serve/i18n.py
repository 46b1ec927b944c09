"""The page's words in English and French, chosen from the browser's Accept-Language."""
from __future__ import annotations

from collections.abc import Callable

LANGUAGES = ("en", "fr")

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Import customers and contacts", "skip": "Skip to the content",
        "nav_import": "Import a file", "nav_history": "History",
        "upload_heading": "1. Choose the file",
        "upload_help": "A CSV or Excel file (.csv, .txt, .xlsx, .xlsm, .xls, .ods). Drop it here or pick it.",
        "upload_drop": "Drop the file here", "upload_pick": "Choose a file", "upload_send": "Upload",
        "store": "Store",
        "mapping_heading": "2. Link the columns to the fields",
        "sheet": "Sheet", "sheet_change": "Read this sheet",
        "column": "Column", "samples": "Sample values", "field": "Field", "how": "How it was matched",
        "ignore": "(ignore this column)", "group": "group",
        "how_exact": "exact title", "how_synonym": "known title", "how_words": "same words",
        "how_similar": "similar title", "how_content": "by its values", "how_explicit": "your choice",
        "how_remembered": "remembered", "how_": "not matched",
        "remembered_from": "Choices remembered from", "missing": "Required fields missing",
        "check": "Check (dry run)", "back_upload": "Choose another file",
        "job_check": "3. Check", "job_import": "4. Import",
        "state_queued": "Waiting", "state_running": "Running", "state_success": "Import successful",
        "state_partial": "Imported with errors", "state_failed": "Failed",
        "check_success": "Ready to import: no errors", "check_partial": "Some lines would be rejected",
        "check_failed": "Nothing would be imported",
        "lines_read": "lines read", "documents_loaded": "documents loaded",
        "rows_read": "Lines read", "rows_imported": "imported", "rows_would": "would be imported",
        "rows_rejected": "rejected",
        "kind": "Kind", "created": "Created", "updated": "Updated", "unchanged": "Unchanged", "rejected": "Rejected",
        "errors_heading": "5. Errors", "line": "Line", "value": "Value", "reason": "Reason",
        "more_errors": "more errors: download the rejects file to see them all",
        "warnings_heading": "Warnings",
        "import_now": "Import now", "change_mapping": "Change the mapping",
        "download_rejects": "Download the rejects", "download_report": "Download the report",
        "reimport_heading": "Import the fixed file",
        "reimport_help": "Fix the lines in the rejects file (its Error column is ignored), then send it here.",
        "history_heading": "6. History", "no_history": "No import recorded yet.",
        "history_unavailable": "This store keeps no history of its imports.",
        "id": "#", "time": "Time", "file": "File", "status": "Status", "downloads": "Downloads",
        "report": "report", "rejects": "rejects", "changes": "Changes",
        "error_heading": "Something went wrong", "back": "Back",
        "noscript": "The progress updates itself with JavaScript; reload the page to see it.",
        "changes_heading": "What the import would change",
        "would_be_updated": "would be updated", "would_be_created": "would be created",
        "key": "Key", "old_value": "Stored value", "new_value": "New value",
        "more_changes": "more not shown here: the report has them all.",
        "download_success": "Download the imported lines", "imported_lines": "imported lines",
        "undo": "Undo", "undone_by": "undone by", "undo_of": "undo of import", "deleted": "deleted",
        "restored": "restored", "undo_refused": "Cannot undo import", "undo_anyway": "Undo anyway",
        "undo_anyway_help": "Undoing it all the same puts back what the import changed, over the changes made "
                            "since to the records named above.",
        "back_history": "Back to the history",
    },
    "fr": {
        "title": "Importer des clients et des contacts", "skip": "Aller au contenu",
        "nav_import": "Importer un fichier", "nav_history": "Historique",
        "upload_heading": "1. Choisir le fichier",
        "upload_help": "Un fichier CSV ou Excel (.csv, .txt, .xlsx, .xlsm, .xls, .ods). Déposez-le ici ou "
                       "choisissez-le.",
        "upload_drop": "Déposez le fichier ici", "upload_pick": "Choisir un fichier", "upload_send": "Envoyer",
        "store": "Base",
        "mapping_heading": "2. Relier les colonnes aux champs",
        "sheet": "Feuille", "sheet_change": "Lire cette feuille",
        "column": "Colonne", "samples": "Exemples de valeurs", "field": "Champ", "how": "Comment",
        "ignore": "(ignorer cette colonne)", "group": "groupe",
        "how_exact": "titre exact", "how_synonym": "titre connu", "how_words": "mêmes mots",
        "how_similar": "titre proche", "how_content": "d'après ses valeurs", "how_explicit": "votre choix",
        "how_remembered": "mémorisé", "how_": "non reconnue",
        "remembered_from": "Choix repris de", "missing": "Champs obligatoires manquants",
        "check": "Vérifier (essai à blanc)", "back_upload": "Choisir un autre fichier",
        "job_check": "3. Vérification", "job_import": "4. Import",
        "state_queued": "En attente", "state_running": "En cours", "state_success": "Import réussi",
        "state_partial": "Importé avec des erreurs", "state_failed": "Échec",
        "check_success": "Prêt à importer : aucune erreur", "check_partial": "Des lignes seraient rejetées",
        "check_failed": "Rien ne serait importé",
        "lines_read": "lignes lues", "documents_loaded": "documents chargés",
        "rows_read": "Lignes lues", "rows_imported": "importées", "rows_would": "seraient importées",
        "rows_rejected": "rejetées",
        "kind": "Type", "created": "Créés", "updated": "Modifiés", "unchanged": "Inchangés", "rejected": "Rejetés",
        "errors_heading": "5. Erreurs", "line": "Ligne", "value": "Valeur", "reason": "Motif",
        "more_errors": "autres erreurs : téléchargez le fichier des rejets pour les voir toutes",
        "warnings_heading": "Avertissements",
        "import_now": "Importer", "change_mapping": "Modifier les correspondances",
        "download_rejects": "Télécharger les rejets", "download_report": "Télécharger le rapport",
        "reimport_heading": "Importer le fichier corrigé",
        "reimport_help": "Corrigez les lignes du fichier des rejets (sa colonne Error est ignorée), puis "
                         "envoyez-le ici.",
        "history_heading": "6. Historique", "no_history": "Aucun import enregistré.",
        "history_unavailable": "Cette base ne garde pas l'historique de ses imports.",
        "id": "n°", "time": "Date", "file": "Fichier", "status": "État", "downloads": "Téléchargements",
        "report": "rapport", "rejects": "rejets", "changes": "Modifications",
        "error_heading": "Un problème est survenu", "back": "Retour",
        "noscript": "La progression se met à jour avec JavaScript ; rechargez la page pour la voir.",
        "changes_heading": "Ce que l'import modifierait",
        "would_be_updated": "seraient modifiés", "would_be_created": "seraient créés",
        "key": "Clé", "old_value": "Valeur enregistrée", "new_value": "Nouvelle valeur",
        "more_changes": "autres non affichés ici : le rapport les contient tous.",
        "download_success": "Télécharger les lignes importées", "imported_lines": "lignes importées",
        "undo": "Annuler", "undone_by": "annulé par", "undo_of": "annulation de l'import", "deleted": "supprimés",
        "restored": "rétablis", "undo_refused": "Impossible d'annuler l'import", "undo_anyway": "Annuler quand même",
        "undo_anyway_help": "L'annuler quand même rétablit ce que l'import a modifié, par-dessus les modifications "
                            "faites depuis aux enregistrements nommés ci-dessus.",
        "back_history": "Retour à l'historique",
    },
}


def language(accept_language: str) -> str:
    """The first of ``LANGUAGES`` the browser prefers (by its q-values), English by default."""
    ranked = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        ranked.append((-quality, position, tag.strip().lower().split("-")[0]))
    for quality, _, tag in sorted(ranked):
        if tag in LANGUAGES and quality < 0:
            return tag
    return "en"


def translator(lang: str) -> Callable[[str], str]:
    """``t(key)``: the text of ``key`` in ``lang`` (the key itself when missing, to be seen and fixed)."""
    texts = TEXTS[lang]
    return lambda key: texts.get(key, TEXTS["en"].get(key, key))
