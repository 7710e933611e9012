"""Glasses jobs in the POS data: the store's Ready jobs (with their customers and products, whatever the
loading limits) so a pickup works with Odoo unreachable, the advance product, and the payment method that
pays a pickup with the advances (the prepayment offset, FFD tag 1215).
"""

from odoo import fields, models


class PosSessionJobs(models.Model):
    _inherit = "pos.session"

    def _pos_ui_models_to_load(self):
        return [*super()._pos_ui_models_to_load(), "optics.manufacturing.order"]

    def _optics_ready_jobs(self):
        """The Ready jobs of this POS's store the user may see (none for a cashier who is no optician)."""
        Job = self.env["optics.manufacturing.order"]
        if not Job.check_access_rights("read", raise_exception=False):
            return Job
        store = self.config_id.picking_type_id.warehouse_id or self.config_id.warehouse_id
        return Job.search([("state", "=", "ready"), ("pickup_store_id", "=", store.id)])

    def _loader_params_optics_manufacturing_order(self):
        return {}

    def _get_pos_ui_optics_manufacturing_order(self, params):
        """The store's Ready jobs: a pickup works from them when Odoo is unreachable."""
        return self._optics_ready_jobs()._optics_pos_data()

    def _get_pos_ui_res_partner(self, params):
        partners = super()._get_pos_ui_res_partner(params)
        known = {partner["id"] for partner in partners}
        missing = self._optics_ready_jobs().partner_id.filtered(lambda p: p.id not in known)
        if missing:
            search = dict(params["search_params"], domain=[("id", "in", missing.ids)])
            partners += self.env["res.partner"].search_read(**search)
        return partners

    def _get_pos_ui_product_product(self, params):
        """Also the products of the Ready jobs and the advance product, whatever the loading limits: a
        pickup rings them up with Odoo unreachable."""
        products = super()._get_pos_ui_product_product(params)
        advance = self.env.ref("optics_pos_ru54fz.product_job_advance", raise_if_not_found=False)
        wanted = self._optics_ready_jobs().line_ids.product_id | (advance or self.env["product.product"])
        known = {product["id"] for product in products}
        missing = wanted.filtered(lambda product: product.id not in known)
        if missing:
            extra = missing.with_context(**params["context"]).read(params["search_params"]["fields"])
            self._process_pos_ui_product_product(extra)
            products += extra
        return products

    def _pos_data_process(self, loaded_data):
        result = super()._pos_data_process(loaded_data)
        advance = self.env.ref("optics_pos_ru54fz.product_job_advance", raise_if_not_found=False)
        loaded_data["optics_advance_product_id"] = advance.id if advance else False
        return result

    def _loader_params_pos_payment_method(self):
        params = super()._loader_params_pos_payment_method()
        params["search_params"]["fields"].append("optics_prepayment_offset")
        return params


class PosPaymentMethod(models.Model):
    _inherit = "pos.payment.method"

    optics_prepayment_offset = fields.Boolean(
        "Prepayment offset (1215)",
        help="Pays a glasses job's pickup with the advances taken for it: the till prints it as the "
        "prepayment offset (FFD tag 1215). Use it without a journal (customer account).",
    )


class PosOrderLine(models.Model):
    _inherit = "pos.order.line"

    # A glasses job's advance line keeps what its receipt item carried, so its refund (a cancelled job)
    # prints the same VAT and 1214 from any till, days later (the POS reloads the order from Odoo).
    optics_advance_vat = fields.Integer("Advance VAT code (1199)", readonly=True)
    optics_advance_method = fields.Integer("Advance payment method (1214)", readonly=True)

    def _export_for_ui(self, orderline):
        values = super()._export_for_ui(orderline)
        values["optics_advance_vat"] = orderline.optics_advance_vat
        values["optics_advance_method"] = orderline.optics_advance_method
        return values
