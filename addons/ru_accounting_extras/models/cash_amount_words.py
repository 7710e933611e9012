# Amounts and dates as the cash forms (KO-1, KO-2, KO-4) print them: roubles in figures ("12 345,67") and in
# words ("Двенадцать тысяч триста сорок пять рублей 67 копеек": roubles in words, kopecks in figures, as the
# forms are filled in), dates as «11» марта 2026 г. Plain Python (num2words, which Odoo itself requires); the
# Russian words are language data.
from decimal import ROUND_HALF_UP, Decimal

from num2words import num2words

#: Russian plural forms: 1 рубль, 2–4 рубля, 5–20 рублей (and 11–14 whatever the last digit).
RUBLE_FORMS = ("рубль", "рубля", "рублей")
KOPECK_FORMS = ("копейка", "копейки", "копеек")
#: Months in the genitive, as a Russian date says them («11» марта).
MONTHS_GENITIVE = (
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
)
#: Thousands are separated by a no-break space, so an amount never wraps across two lines of a form.
THOUSANDS = "\u00a0"


def plural(number, forms):
    """The Russian form of a noun after ``number``: forms = (1, 2–4, 5–20)."""
    number = abs(number) % 100
    if 11 <= number <= 14:
        return forms[2]
    number %= 10
    if number == 1:
        return forms[0]
    if 2 <= number <= 4:
        return forms[1]
    return forms[2]


def split_rubles(amount):
    """(roubles, kopecks) of abs(amount), rounded half up to the kopeck (floats of 0.01 are inexact)."""
    kopecks = int((abs(Decimal(str(amount))) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return divmod(kopecks, 100)


def rubles_in_figures(amount):
    """12345.67 → "12 345,67" (no-break space between thousands, decimal comma); a minus sign if < 0."""
    rubles, kopecks = split_rubles(amount)
    sign = "-" if amount < 0 and (rubles or kopecks) else ""
    return f"{sign}{rubles:,}".replace(",", THOUSANDS) + f",{kopecks:02d}"


def rubles_in_words(amount):
    """12345.67 → "Двенадцать тысяч триста сорок пять рублей 67 копеек" (of abs(amount))."""
    rubles, kopecks = split_rubles(amount)
    words = num2words(rubles, lang="ru")
    words = words[:1].upper() + words[1:]
    return f"{words} {plural(rubles, RUBLE_FORMS)} {kopecks:02d} {plural(kopecks, KOPECK_FORMS)}"


def date_in_words(day):
    """date(2026, 3, 11) → "«11» марта 2026 г."; "" for no date."""
    if not day:
        return ""
    return f"«{day.day:02d}» {MONTHS_GENITIVE[day.month - 1]} {day.year} г."
