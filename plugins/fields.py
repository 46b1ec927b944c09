"""The fields of the customer and contact import, with their column titles in English and French."""
from __future__ import annotations

from etl import Content, Field

from . import content as looks
from .documents import DOCUMENT_KEYS
from .values import POSITIONS

MAIN_CONTACT_CHOICES = ("1", "0")


TEXT_FIELDS = frozenset({"customer_id", "accounting_code", "postal_code", "group_id", "contact_phone",
                         "contact_reference", "vat_number"})
"""Codes kept exactly as typed: templates format their columns as text."""

DESCRIPTIONS_FR = {
    "customer_id": "Identifie le client de façon unique ; obligatoire quand plusieurs clients ont le même nom.",
    "customer_name": "Obligatoire pour un nouveau client ; l'identifie quand il n'a pas d'identifiant client.",
    "accounting_code": "Le compte du client dans votre logiciel de comptabilité.",
    "vat_number": "Le numéro de TVA intracommunautaire du client.",
    "address": "La rue seulement.",
    "postal_code": "Gardé comme texte : les zéros en tête restent.",
    "account_manager_email": "Un email valide ; l'un des chargés de compte connus quand les réglages les listent.",
    "workflow": "L'un des workflows connus quand les réglages les listent.",
    "payment_period": "En jours entiers, par ex. 30.",
    "group_name": "Pour une filiale : le nom du client qui est son groupe.",
    "group_id": "Pour une filiale : l'identifiant client de son groupe.",
    "contact_email": "Obligatoire pour un contact ; l'identifie.",
    "contact_reference": "La référence du contact dans votre système.",
    "contact_position": "ACCOUNTING (comptabilité), SALES (ventes), PURCHASER (acheteur) ou PAYER (payeur).",
    "main_contact": "« 1 » marque le contact principal du client ; s'il y en a plusieurs, le dernier l'emporte.",
}
"""The descriptions in French, by field name."""


def _field(name: str, en: str, fr: str, *synonyms: str, description: str = "", choices: tuple[str, ...] = (),
           content: Content | None = None, false_friends: tuple[str, ...] = (), needs: str | None = None,
           differs_from: tuple[str, ...] = ()) -> Field:
    return Field(name, {"en": en, "fr": fr}, synonyms, description, choices, as_text=name in TEXT_FIELDS,
                 translations={"fr": DESCRIPTIONS_FR[name]} if name in DESCRIPTIONS_FR else {},
                 content=content, false_friends=false_friends, needs=needs, repeats=name.startswith("contact_"),
                 differs_from=differs_from,
                 aliases=tuple(key for key, field in DOCUMENT_KEYS if field == name and key != name))


CUSTOMER_FIELDS = (
    _field("customer_id", "Customer ID", "Identifiant client",
           "Client ID", "Customer reference", "Customer ref", "Customer number", "Customer no", "ID client",
           "Référence client", "Numéro client", "Code client", "N° client", "External ID",
           "Client ID (External Id)",
           "ID", "Reference", "Ref", "Account number", "Account no", "Customer code", "Company ID", "Kundennummer",
           "Kunden-Nr", "Debitorennummer", "Número de cliente", "Código cliente", "Identifiant", "Référence",
           description="Uniquely identifies the customer; required when several customers share a name."),
    _field("customer_name", "Customer name", "Nom du client",
           "Company", "Company name", "Name of the company", "Client", "Customer", "Client name", "Raison sociale",
           "Société", "Entreprise", "Nom de l'entreprise", "Nom de la société", "Nom client", "Name",
           "ContactName", "Display Name", "Organisation", "Organization", "Account name", "Associated Company",
           "Firma", "Firmenname", "Kunde", "Kundenname", "Empresa", "Razón social", "Dénomination",
           description="Required for a new customer; identifies it when there is no Customer ID."),
    _field("accounting_code", "Customer accounting code", "Code comptable",
           "Accounting code", "Account code", "Compte comptable", "Code comptable client", "Compte client",
           "Compte tiers", "Compte auxiliaire", "Cuenta contable",
           description="The customer's account in your accounting software."),
    _field("vat_number", "VAT number", "Numéro de TVA",
           "VAT", "VAT ID", "VAT no", "TVA", "TVA intracommunautaire", "N° TVA", "Numéro TVA", "Tax ID",
           "Tax number", "Tax no", "VAT registration number", "GST number", "USt-IdNr", "Umsatzsteuer-ID", "NIF",
           "CIF", "Partita IVA", content=looks.VAT_NUMBERS,
           description="The customer's VAT identification number."),
    _field("address", "Address", "Adresse",
           "Street", "Street address", "Rue", "Adresse postale", "Address line 1", "Adresse 1", "Street 1",
           "Straße", "Strasse", "Dirección", "Calle", "Indirizzo", "Adresse ligne 1",
           description="Street only."),
    _field("postal_code", "Postal code", "Code postal", "Zip", "Zip code", "Postcode", "Post code", "CP",
           "Billing Code",
           "PLZ", "Postleitzahl", "Código postal", "CAP", "Zip/Postal code",
           content=looks.POSTAL_CODES, description="Kept as text: leading zeros stay."),
    _field("town", "Town", "Ville", "City", "Commune", "Localité", "Ort", "Stadt", "Ciudad", "Población", "Città"),
    _field("state", "State / Region", "État / Région", "State", "Region", "Région", "Province", "County",
           "Département", "Bundesland", "Provincia", "Estado",
           false_friends=("Department",)),
    _field("country", "Country", "Pays", "Country code", "Code pays", "Country/Region", "Land", "País", "Paese",
           content=looks.COUNTRIES),
    _field("account_manager_email", "Email of the Account Manager", "Email du chargé de compte",
           "Account manager", "Account manager email", "Chargé de compte", "Email chargé de compte",
           "Owner email", "Sales rep email", "Responsable email",
           content=looks.MANAGER_EMAILS,
           description="A valid email; one of the known account managers when the settings list them."),
    _field("workflow", "Workflow's name", "Nom du workflow", "Workflow", "Workflow name",
           description="One of the known workflows when the settings list them."),
    _field("payment_period", "Default payment period", "Délai de paiement",
           "Payment period", "Payment terms", "Payment term", "Délai de paiement par défaut",
           "Conditions de paiement", "Délai paiement", "DueDateSalesDay", "Terms", "Customer Payment Terms",
           "Conditions de règlement", "Délai de règlement", "Zahlungsziel", "Zahlungsbedingungen", "Plazo de pago",
           "Días de pago", content=looks.DAYS,
           description="Whole days, e.g. 30."),
    _field("group_name", "Group name", "Nom du groupe", "Parent company", "Group", "Groupe", "Parent name",
           "Société mère", "Maison mère", "Parent", "Parent account", "Related Company", "Groupe parent",
           "Muttergesellschaft", "Empresa matriz",
           description="For a subsidiary: the Customer name of its group."),
    _field("group_id", "Group ID", "ID du groupe", "Parent ID", "Identifiant du groupe", "Group reference",
           "Référence du groupe",
           description="For a subsidiary: the Customer ID of its group."),
)

CONTACT_FIELDS = (
    _field("contact_email", "Contact email", "Email du contact",
           "Email", "E-mail", "Mail", "Courriel", "Adresse email", "Adresse e-mail", "Contact e-mail",
           "Email address", "E-mail du contact", "Email ID", "Contact email address", "Correo", "Correo electrónico",
           "E-Mail-Adresse", "Adresse mail", "Mél", content=looks.EMAILS,
           description="Required for a contact; identifies it."),
    _field("contact_first_name", "Contact first name", "Prénom du contact",
           "First name", "Firstname", "Given name", "Prénom", "Vorname", "Nombre de pila",
           content=looks.PERSON_NAMES, differs_from=("customer_name",)),
    _field("contact_last_name", "Contact Name", "Nom du contact",
           "Contact last name", "Last name", "Lastname", "Surname", "Family name", "Nom de famille", "Nachname",
           "Apellido", "Apellidos", "Cognome", content=looks.PERSON_NAMES, false_friends=("Main Contact Name",),
           differs_from=("customer_name",)),
    _field("contact_phone", "Contact phone", "Téléphone",
           "Phone", "Telephone", "Phone number", "Tel", "Tél", "Mobile", "Téléphone du contact",
           "Numéro de téléphone", "Telefon", "Teléfono", "Telefono", "Portable", "Mobile phone", "Cell",
           "Téléphone portable", "Handy", "Móvil", content=looks.PHONES, needs="contact_email",
           false_friends=("Fax", "Fax number", "Telefax", "Owner", "Contact owner", "Company owner")),
    _field("contact_reference", "Contact reference", "Référence du contact",
           "Contact ref", "Référence contact", "ID du contact", "Contact external ID",
           false_friends=("Contact ID",),  # the contact's, or in Zoho (whose customers are contacts) the customer's
           description="The contact's reference in your system."),
    _field("contact_position", "Contact Position", "Poste du contact",
           "Position", "Role", "Rôle", "Poste", "Fonction", "Job title", "Contact Type", "Contact role",
           "Type de contact", "Funktion", "Cargo", content=looks.POSITIONS,
           description="ACCOUNTING, SALES, PURCHASER (buyer) or PAYER.", choices=POSITIONS),
    _field("main_contact", "Main contact", "Contact principal",
           "Primary contact", "Is main", "Principal", "Default contact", "Contact par défaut", "Is primary",
           "Main", "Primary", "Hauptkontakt", "Contacto principal", content=looks.FLAGS,
           false_friends=("Fax", "Main Contact Fax", "Main Contact Name", "Main Contact Phone", "Main Contact Email",
                          "Main Contact Mobile", "Main Contact Type"),
           description='"1" marks the customer\'s main contact; the last one flagged wins.',
           choices=MAIN_CONTACT_CHOICES),
)

FIELDS = CUSTOMER_FIELDS + CONTACT_FIELDS
CUSTOMER_FIELD_NAMES = tuple(f.name for f in CUSTOMER_FIELDS)
CONTACT_FIELD_NAMES = tuple(f.name for f in CONTACT_FIELDS)

