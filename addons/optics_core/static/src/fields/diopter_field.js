/** @odoo-module */
// Field widgets for prescriptions, showing values as opticians write them:
// - `optics_diopter`: a power with an explicit sign and two decimals (+1,25, -0,75; 0,00 is plano);
//   option `blank_zero` shows nothing for 0 (an addition or prism that was not prescribed);
// - `optics_measure`: a measurement (PD, fitting height, BC, DIA, prism) blank when not given;
// - `optics_axis`: the cylinder axis in whole degrees, blank when there is no cylinder.
// Input accepts the same notation: Odoo's float parser takes a leading "+" and reads "" as 0.
import { registry } from "@web/core/registry";
import { FloatField, floatField } from "@web/views/fields/float/float_field";
import { IntegerField, integerField } from "@web/views/fields/integer/integer_field";

export class DiopterField extends FloatField {
  static props = { ...FloatField.props, blankZero: { type: Boolean, optional: true } };

  get formattedValue() {
    if (this.props.blankZero && !this.value && !this.state.hasFocus) {
      return "";
    }
    const text = super.formattedValue;
    return typeof this.value === "number" && this.value > 0 ? `+${text}` : text;
  }
}

export class MeasureField extends FloatField {
  get formattedValue() {
    return !this.value && !this.state.hasFocus ? "" : super.formattedValue;
  }
}

export class AxisField extends IntegerField {
  get formattedValue() {
    return !this.value && !this.state.hasFocus ? "" : super.formattedValue;
  }
}

registry.category("fields").add("optics_diopter", {
  ...floatField,
  component: DiopterField,
  extractProps: (fieldInfo, dynamicInfo) => ({
    ...floatField.extractProps(fieldInfo, dynamicInfo),
    blankZero: Boolean(fieldInfo.options.blank_zero),
  }),
});
registry.category("fields").add("optics_measure", { ...floatField, component: MeasureField });
registry.category("fields").add("optics_axis", { ...integerField, component: AxisField });
