/** @odoo-module */
// Shift operations on the till's KKT from the POS (open, X, Z), which need only the till: a Z report is
// kept in the browser's storage until Odoo takes it (pos.session.optics_record_shift_report), so a shift
// closes with Odoo unreachable and its FFD fields (1038, 1097, 1098, totals) reach Odoo later.
import { _t } from "@web/core/l10n/translation";
import { ConnectionLostError } from "@web/core/network/rpc_service";
import { cashierTags } from "@optics_pos_ru54fz/app/fiscal_receipt";
import { kktClient, KktUnreachableError } from "@optics_pos_ru54fz/app/kkt_client";
import { problemMessage, unreachableMessage } from "@optics_pos_ru54fz/app/kkt_messages";

function pendingKey(pos) {
  return `optics_pending_z_reports_${pos.config.id}`;
}

function pendingReports(pos) {
  return JSON.parse(window.localStorage.getItem(pendingKey(pos)) || "[]");
}

function storePending(pos, reports) {
  window.localStorage.setItem(pendingKey(pos), JSON.stringify(reports));
}

/** Send the Z reports Odoo has not taken yet; they stay queued while Odoo is unreachable. */
export async function flushShiftReports(pos, orm) {
  let reports = pendingReports(pos);
  while (reports.length) {
    try {
      await orm.silent.call("pos.session", "optics_record_shift_report", [pos.pos_session.id, reports[0]]);
    } catch (error) {
      if (error instanceof ConnectionLostError) {
        return reports.length;
      }
      throw error;
    }
    reports = pendingReports(pos).slice(1);
    storePending(pos, reports);
  }
  return 0;
}

/** Run `action` (open | x | close) on the KKT: {ok, message, data}. A Z is queued for Odoo. */
export async function shiftAction(pos, orm, action) {
  let answer;
  try {
    answer = await kktClient(pos).shift(action, cashierTags(pos));
  } catch (error) {
    if (!(error instanceof KktUnreachableError)) {
      throw error;
    }
    return { ok: false, message: unreachableMessage() };
  }
  if (!answer.ok) {
    return { ok: false, message: problemMessage(answer.problem) };
  }
  const data = answer.data;
  if (action === "close") {
    storePending(pos, [...pendingReports(pos), { ...data, pos_id: pos.config.optics_pos_id }]);
    const left = await flushShiftReports(pos, orm);
    return {
      ok: true,
      data,
      pending: left,
      message: left
        ? _t(
            "Shift %s closed (Z report, FD %s). Odoo is unreachable: the report will be sent later.",
            data.shift_number,
            data.fd_number,
          )
        : _t("Shift %s closed (Z report, FD %s).", data.shift_number, data.fd_number),
    };
  }
  if (action === "open") {
    return { ok: true, data, message: _t("Shift %s opened.", data.shift_number) };
  }
  return { ok: true, data, message: _t("X report printed.") };
}
