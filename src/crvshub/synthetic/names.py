"""Name pools of several cultures and scripts, for generated test and benchmark data.

Each culture gives female and male given names and family names. Some names come with
the spellings people really use for them (transliteration variants) and some with their
writing in another script, so that generated duplicates carry realistic differences.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Culture:
    """Given and family names of one naming tradition."""

    name: str
    female: tuple[str, ...]
    male: tuple[str, ...]
    family: tuple[str, ...]
    # Vietnamese-style order: family name first when written.
    family_first: bool = False


CULTURES: tuple[Culture, ...] = (
    Culture(
        "southern-african",
        ("Chisomo", "Thandiwe", "Mercy", "Grace", "Tiyamike", "Chikondi", "Lindiwe", "Nomsa",
         "Precious", "Mphatso", "Tawonga", "Thokozani", "Naledi", "Zodwa", "Memory", "Esther",
         "Agnes", "Ruth", "Faith", "Lusungu", "Mwai", "Natasha", "Blessings", "Loveness"),
        ("Kondwani", "Mphatso", "Chikondi", "Tiyamike", "Sipho", "Thabo", "Bongani", "Tendai",
         "Limbani", "Madalitso", "Chimwemwe", "Kelvin", "Innocent", "Gift", "Yamikani",
         "Mayeso", "Dalitso", "Themba", "Lungisani", "Mandla", "Luka", "Joseph", "Peter"),
        ("Banda", "Phiri", "Mwale", "Chanda", "Tembo", "Zulu", "Dlamini", "Nkhoma", "Mbewe",
         "Kamanga", "Chirwa", "Ngwira", "Msiska", "Gondwe", "Mumba", "Mulenga", "Kabwe",
         "Ndlovu", "Moyo", "Sibanda", "Nyirenda", "Lungu", "Sakala", "Mvula", "Daka"),
    ),
    Culture(
        "west-african",
        ("Adaeze", "Chiamaka", "Ngozi", "Funmilayo", "Oluwaseun", "Abena", "Akosua", "Ama",
         "Aminata", "Fatoumata", "Kadiatou", "Yetunde", "Ifeoma", "Nneka", "Efua", "Adjoa"),
        ("Chidi", "Emeka", "Olusegun", "Babatunde", "Kwame", "Kofi", "Kwabena", "Mamadou",
         "Ibrahima", "Ousmane", "Chukwuemeka", "Obinna", "Tunde", "Yaw", "Seydou", "Moussa"),
        ("Okafor", "Adeyemi", "Mensah", "Diallo", "Okeke", "Balogun", "Owusu", "Traore",
         "Kone", "Osei", "Nwosu", "Adebayo", "Boateng", "Camara", "Sow", "Eze", "Bah"),
    ),
    Culture(
        "arabic",
        ("Fatima", "Aisha", "Mariam", "Khadija", "Zainab", "Amina", "Layla", "Noor", "Salma",
         "Huda", "Yasmin", "Rania"),
        ("Mohammed", "Ahmed", "Ali", "Hassan", "Hussein", "Omar", "Yusuf", "Ibrahim",
         "Abdullah", "Khalid", "Mustafa", "Tariq"),
        ("Hassan", "Abdi", "Ali", "Osman", "Mohamud", "Farah", "Yusuf", "Ahmed", "Warsame",
         "Suleiman", "Haji", "Nur"),
    ),
    Culture(
        "vietnamese",
        ("Lan", "Mai", "Hoa", "Linh", "Thu", "Huong", "Ngoc", "Trang", "Thi Lan", "Thi Mai"),
        ("An", "Minh", "Tuan", "Hung", "Duc", "Long", "Nam", "Van An", "Van Minh", "Quang"),
        ("Nguyen", "Tran", "Le", "Pham", "Hoang", "Vu", "Vo", "Dang", "Bui", "Do"),
        family_first=True,
    ),
    Culture(
        "south-asian",
        ("Priya", "Anjali", "Sunita", "Kavita", "Pooja", "Deepa", "Lakshmi", "Meena"),
        ("Rahul", "Amit", "Sanjay", "Vijay", "Arjun", "Ravi", "Suresh", "Anil"),
        ("Sharma", "Patel", "Singh", "Kumar", "Gupta", "Reddy", "Nair", "Das"),
    ),
    Culture(
        "francophone",
        ("Marie", "Jeanne", "Claire", "Sophie", "Aurelie", "Helene", "Josephine", "Beatrice"),
        ("Jean", "Pierre", "Jean-Baptiste", "Francois", "Emmanuel", "Olivier", "Andre", "Eric"),
        ("Dubois", "Mugisha", "Habimana", "Niyonzima", "Uwimana", "Ndayishimiye", "Lefevre",
         "Hakizimana", "Nkurunziza", "Bizimana"),
    ),
)

# Spellings people use for the same name (each group is one name).
VARIANTS: tuple[tuple[str, ...], ...] = (
    ("Mohammed", "Muhammad", "Mohamed", "Mohammad", "Muhammed"),
    ("Ahmed", "Ahmad", "Ahmet"),
    ("Yusuf", "Youssef", "Yousef", "Yosef"),
    ("Hussein", "Hussain", "Husein"),
    ("Aisha", "Aishah", "Ayesha"),
    ("Fatima", "Fatuma", "Fatimah"),
    ("Mariam", "Maryam", "Miriam"),
    ("Ibrahim", "Ebrahim", "Ibraheem"),
    ("Mustafa", "Mustapha", "Mostafa"),
    ("Abdullah", "Abdulla", "Abdallah"),
    ("Zainab", "Zaynab", "Zeinab"),
    ("Mohamud", "Mahmoud", "Mahmud"),
    ("Osman", "Usman", "Othman"),
    ("Nguyen", "Nguyễn"),
    ("Tran", "Trần"),
    ("Joseph", "Josef", "Yosef"),
    ("Peter", "Petr", "Pieter"),
    ("Luka", "Luca", "Lukas"),
    ("Esther", "Ester"),
    ("Francois", "François"),
    ("Helene", "Hélène"),
    ("Aurelie", "Aurélie"),
    ("Andre", "André"),
)

# The same name written in another script (transliterated back by the search keys).
SCRIPTS: dict[str, str] = {
    "Mohammed": "محمد",
    "Ahmed": "أحمد",
    "Ali": "علي",
    "Hassan": "حسن",
    "Omar": "عمر",
    "Fatima": "فاطمة",
    "Aisha": "عائشة",
    "Priya": "प्रिया",
    "Rahul": "राहुल",
    "Sharma": "शर्मा",
    "Anil": "अनिल",
    "Ravi": "रवि",
}


def variants_of(name: str) -> tuple[str, ...]:
    """Return the other spellings of a name (empty when it has none)."""
    for group in VARIANTS:
        if name in group:
            return tuple(n for n in group if n != name)
    return ()
