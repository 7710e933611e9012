/** @odoo-module */
// Tour of the fleet page «Офлайн-буфер» (tests/test_fleet_page.py): the verdict columns, a filter, the
// till form. It ends by renaming a till, which the Python test checks: proof the tour ran.
import { registry } from "@web/core/registry";

const CRITICAL_RED =
  ".o_kanban_group:has(.o_column_title:contains('Critical')) .o_kanban_record:contains('Tour till red')";
const ONLY_RED =
  ".o_kanban_view:not(:has(.o_kanban_record:contains('Tour till green'))) .o_kanban_record:contains('Tour till red')";

registry.category("web_tour.tours").add("optics_pos_ru54fz_fleet_page", {
  test: true,
  url: "/web#action=optics_pos_ru54fz.action_till",
  steps: () => [
    { content: "The red till sits in the Critical column", trigger: CRITICAL_RED, isCheck: true },
    {
      content: "Its reasons are on the card",
      trigger: ".o_kanban_record:contains('Tour till red'):contains('KKT paper_out')",
      isCheck: true,
    },
    { content: "Open the filters", trigger: ".o_control_panel .o_searchview_dropdown_toggler" },
    { content: "Only tills with a DLQ", trigger: ".o_filter_menu .o_menu_item:contains('DLQ not empty')" },
    { content: "The green till is filtered out; open the red one", trigger: ONLY_RED },
    {
      content: "Rename the till on its form",
      trigger: ".o_form_view .o_field_widget[name='name'] input",
      run: "text Tour till red, seen",
    },
    { content: "Save", trigger: ".o_form_button_save" },
    { content: "Saved", trigger: ".o_form_view .o_form_saved", isCheck: true },
  ],
});
