# The gross-profit workbook (OCA report_xlsx): sheet "By category" (store × product category) and sheet
# "By store", each with a total row; amounts as numbers in the money format, margins as percentages.
from odoo import _, models

#: Column widths in characters: names, then figures.
NAME_WIDTH = 32
FIGURE_WIDTH = 16


class GrossProfitXlsx(models.AbstractModel):
    _name = "report.ru_accounting_extras.gross_profit_xlsx"
    _inherit = "report.report_xlsx.abstract"
    _description = "Gross profit workbook"

    def generate_xlsx_report(self, workbook, data, wizards):
        wizard = wizards.ensure_one()
        money = "#,##0.00"
        styles = {
            "title": workbook.add_format({"bold": True, "font_size": 12}),
            "head": workbook.add_format(
                {"bold": True, "bg_color": "#D9D9D9", "border": 1, "text_wrap": True}
            ),
            "text": workbook.add_format({}),
            "qty": workbook.add_format({"num_format": "#,##0.###"}),
            "money": workbook.add_format({"num_format": money}),
            "percent": workbook.add_format({"num_format": "0.00%"}),
            "total": workbook.add_format({"bold": True, "top": 1}),
            "total_qty": workbook.add_format({"bold": True, "top": 1, "num_format": "#,##0.###"}),
            "total_money": workbook.add_format({"bold": True, "top": 1, "num_format": money}),
            "total_percent": workbook.add_format({"bold": True, "top": 1, "num_format": "0.00%"}),
        }
        title = _(
            "Gross profit from %(start)s to %(end)s",
            start=wizard.date_from.strftime("%d.%m.%Y"),
            end=wizard.date_to.strftime("%d.%m.%Y"),
        )
        by_category = wizard._report_groups(["store_id", "categ_id"])
        self._write_sheet(
            workbook.add_worksheet(_("By category")),
            styles,
            title,
            [_("Store"), _("Product category")],
            [
                (g["store_id"].display_name or _("No store"), g["categ_id"].display_name or "", g)
                for g in by_category
            ],
            with_quantity=True,
        )
        by_store = wizard._report_groups(["store_id"])
        self._write_sheet(
            workbook.add_worksheet(_("By store")),
            styles,
            title,
            [_("Store")],
            [(g["store_id"].display_name or _("No store"), g) for g in by_store],
            with_quantity=False,
        )

    def _write_sheet(self, sheet, styles, title, name_headers, rows, with_quantity):
        """Title in A1, headers in row 3, one row per group from row 4, then the total row. Each row is its
        names (one per name header) followed by a group dict of wizard._report_groups."""
        names = len(name_headers)
        figures = [_("Revenue"), _("Cost of goods"), _("Gross profit"), _("Margin")]
        headers = [*name_headers, *([_("Quantity")] if with_quantity else []), *figures]
        sheet.write(0, 0, title, styles["title"])
        for col, header in enumerate(headers):
            sheet.write_string(2, col, header, styles["head"])
            sheet.set_column(col, col, NAME_WIDTH if col < names else FIGURE_WIDTH)
        sheet.freeze_panes(3, 0)
        totals = dict.fromkeys(("quantity", "revenue", "cost", "gross_profit"), 0.0)
        row = 3
        for *labels, group in rows:
            for col, label in enumerate(labels):
                sheet.write_string(row, col, label, styles["text"])
            self._write_figures(sheet, row, names, group, with_quantity, styles, "")
            for key in totals:
                totals[key] += group[key]
            row += 1
        revenue = totals["revenue"]
        totals["margin_percent"] = totals["gross_profit"] / revenue * 100 if revenue else 0.0
        sheet.write_string(row, 0, _("Total"), styles["total"])
        for col in range(1, names):
            sheet.write_blank(row, col, None, styles["total"])
        self._write_figures(sheet, row, names, totals, with_quantity, styles, "total_")

    def _write_figures(self, sheet, row, col, group, with_quantity, styles, style):
        if with_quantity:
            sheet.write_number(row, col, group["quantity"], styles[f"{style}qty"])
            col += 1
        for key in ("revenue", "cost", "gross_profit"):
            sheet.write_number(row, col, round(group[key], 2), styles[f"{style}money"])
            col += 1
        # A fraction in the percent format: Excel shows 66.22 % and sums and averages it as a number.
        sheet.write_number(row, col, round(group["margin_percent"] / 100, 6), styles[f"{style}percent"])
