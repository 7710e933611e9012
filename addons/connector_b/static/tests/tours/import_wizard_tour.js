/** @odoo-module */
// Tours of the price list wizard (tests/test_import_tour.py). The first: a manager opens Inventory →
// Supplier prices → Upload a price list, picks the profile, uploads a CSV written here (one new row, one
// price up, one held over 20 %, one rejected), previews it, reads the counts, opens the held rows and
// confirms the import — the test then finds the job queued (proof the tour ran) and runs it. The second:
// the manager approves the held price on the done job.
import { registry } from "@web/core/registry";

const FILE_NAME = "tour_prices.csv";
// The supplier's list as the test expects it (tests/common.py CONFIG: these columns, decimal commas).
const CSV = [
  "Артикул;Наименование;Категория;Ед. изм.;Цена;Штрихкод",
  "TOUR-NEW-1;Оправа тура, новая;;шт;1500,00;",
  "TOUR-UP-1;Оправа тура, подорожала;;шт;1100,00;",
  "TOUR-HELD-1;Оправа тура, резко подорожала;;шт;1500,00;",
  "TOUR-BAD-1;Оправа тура, без цены;;шт;0,00;",
].join("\r\n");

// Inside a dialog a step's trigger is looked for within it: no ".modal" in those selectors.
const FILE_FIELD = ".o_field_widget[name='file']";

function statButton(label) {
  return `.o_form_view .oe_stat_button:has(.o_stat_text:contains('${label}'))`;
}

function countIs(label, value) {
  return {
    content: `The preview counts ${value} «${label}»`,
    trigger: `${statButton(label)} .o_stat_value:contains('${value}')`,
    isCheck: true,
  };
}

registry.category("web_tour.tours").add("connector_b_import_wizard", {
  test: true,
  url: "/web",
  steps: () => [
    { content: "Open the apps menu", trigger: ".o_navbar_apps_menu button" },
    { content: "Open Inventory", trigger: ".o_app[data-menu-xmlid='stock.menu_stock_root']" },
    {
      content: "Open Supplier prices",
      trigger: ".o_menu_sections [data-menu-xmlid='connector_b.menu_import_root']",
    },
    {
      content: "Upload a price list",
      trigger: ".dropdown-item[data-menu-xmlid='connector_b.menu_import_upload']",
    },
    {
      content: "Pick the profile",
      trigger: ".o_field_widget[name='profile_id'] input",
      run: "text Прайс тура",
    },
    {
      content: "The tour's profile",
      trigger: ".o_field_widget[name='profile_id'] .o-autocomplete--dropdown-item a:contains('Прайс тура')",
    },
    {
      content: "Upload the price list",
      trigger: `${FILE_FIELD} .o_select_file_button`,
      run() {
        const input = document.querySelector(`.modal ${FILE_FIELD} input.o_input_file`);
        const files = new DataTransfer();
        files.items.add(new File([CSV], FILE_NAME, { type: "text/csv" }));
        input.files = files.files;
        input.dispatchEvent(new Event("change", { bubbles: true }));
      },
    },
    {
      content: "Preview",
      extra_trigger: `.modal ${FILE_FIELD} .o_clear_file_button`,
      trigger: ".modal-footer button[name='action_preview']",
    },
    {
      content: "The job's form opens, previewed",
      trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current[data-value='previewed']",
      isCheck: true,
    },
    countIs("New", 1),
    countIs("Price up", 1),
    countIs("Held", 1),
    countIs("Rejected", 1),
    { content: "Open the held rows", trigger: statButton("Held") },
    {
      content: "The held row, with the supplier's new price, in a paginated list",
      trigger: ".o_list_view .o_data_row:contains('TOUR-HELD-1'):contains('1,500.00')",
      extra_trigger: ".o_control_panel .o_pager_counter",
      isCheck: true,
    },
    {
      content: "Only held rows are listed",
      trigger: ".o_list_view:not(:has(.o_data_row:contains('TOUR-UP-1')))",
      isCheck: true,
    },
    { content: "Back to the job", trigger: ".o_control_panel .breadcrumb-item a:contains('IMP/')" },
    {
      content: "Confirm and import",
      trigger: ".o_form_view .o_statusbar_buttons button[name='action_confirm']",
    },
    {
      content: "The import is queued",
      trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current[data-value='queued']",
      isCheck: true,
    },
  ],
});

registry.category("web_tour.tours").add("connector_b_import_approve_held", {
  test: true,
  steps: () => [
    {
      content: "The done import waits for a decision on one held price",
      trigger: ".o_form_view .o_field_widget[name='held_pending']:contains('1')",
      extra_trigger: ".o_statusbar_status button.o_arrow_button_current[data-value='done']",
      isCheck: true,
    },
    {
      content: "Approve the held prices",
      trigger: ".o_form_view .o_statusbar_buttons button[name='action_approve_held']",
    },
    {
      content: "Nothing waits any more",
      trigger: ".o_form_view .o_field_widget[name='held_pending']:contains('0')",
      extra_trigger: ".o_form_view .o_statusbar_buttons:not(:has(button[name='action_approve_held']))",
      isCheck: true,
    },
  ],
});
