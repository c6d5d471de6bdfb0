// Colours an asset component by a value in [0, 1] (its anomaly score, a signal's position in
// its range, or data age) on top of Bevy's standard PBR lighting. One material per colour step
// is shared by every mesh showing that step, so a changing score swaps a handle, never a
// material; the pulse of an unacknowledged alarm is animated here, from the global time.
//
// The ramps must match `score_colour::ramp_colour` (the legend draws them on the CPU).

#import bevy_pbr::{
    pbr_fragment::pbr_input_from_standard_material,
    pbr_functions::alpha_discard,
    mesh_view_bindings::globals,
}
#ifdef SIMPLE_LIGHTING
#import bevy_pbr::pbr_bindings::material
#import plant_twin::simple_lighting::simple_shade
#endif

#ifdef PREPASS_PIPELINE
#import bevy_pbr::{
    prepass_io::{VertexOutput, FragmentOutput},
    pbr_deferred_functions::deferred_output,
}
#else
#import bevy_pbr::{
    forward_io::{VertexOutput, FragmentOutput},
    pbr_functions::{apply_pbr_lighting, main_pass_post_lighting_processing},
}
#endif

struct ScoreTint {
    // Position on the ramp, 0..1.
    value: f32,
    // 0: anomaly (green, amber at 0.5, red from 0.75); 1: value (blue, teal, yellow, red);
    // 2: alarm state (neutral grey, amber from 0.25, red from 0.75).
    ramp: u32,
    // 1: pulse (unacknowledged alarm); 2: stale data (grey); 4: no value yet.
    flags: u32,
    // How much of the base paint shows through (asset bodies are muted, components are not).
    paint_mix: f32,
}

@group(#{MATERIAL_BIND_GROUP}) @binding(100) var<uniform> tint: ScoreTint;

const FLAG_PULSE: u32 = 1u;
const FLAG_STALE: u32 = 2u;
const FLAG_NO_VALUE: u32 = 4u;

fn anomaly_ramp(s: f32) -> vec3<f32> {
    let green = vec3<f32>(0.05, 0.45, 0.10);
    let amber = vec3<f32>(1.0, 0.45, 0.0);
    let red = vec3<f32>(0.80, 0.02, 0.02);
    if s < 0.5 {
        return mix(green, amber, s / 0.5);
    }
    return mix(amber, red, clamp((s - 0.5) / 0.25, 0.0, 1.0));
}

fn state_ramp(v: f32) -> vec3<f32> {
    if v < 0.25 {
        return vec3<f32>(0.30, 0.31, 0.33);
    }
    if v < 0.75 {
        return vec3<f32>(1.0, 0.45, 0.0);
    }
    return vec3<f32>(0.80, 0.02, 0.02);
}

fn value_ramp(v: f32) -> vec3<f32> {
    let blue = vec3<f32>(0.02, 0.10, 0.60);
    let teal = vec3<f32>(0.0, 0.45, 0.40);
    let yellow = vec3<f32>(0.90, 0.75, 0.02);
    let red = vec3<f32>(0.80, 0.02, 0.02);
    let x = clamp(v, 0.0, 1.0) * 3.0;
    if x < 1.0 {
        return mix(blue, teal, x);
    }
    if x < 2.0 {
        return mix(teal, yellow, x - 1.0);
    }
    return mix(yellow, red, x - 2.0);
}

// The tint's colour (linear RGB) over a part of this paint.
fn tint_colour(paint: vec3<f32>) -> vec3<f32> {
    var colour: vec3<f32>;
    if (tint.flags & FLAG_STALE) != 0u {
        colour = vec3<f32>(0.18, 0.18, 0.19);
    } else if (tint.flags & FLAG_NO_VALUE) != 0u {
        colour = vec3<f32>(0.06, 0.08, 0.11);
    } else if tint.ramp == 0u {
        colour = anomaly_ramp(tint.value);
    } else if tint.ramp == 2u {
        colour = state_ramp(tint.value);
    } else {
        colour = value_ramp(tint.value);
    }
    return mix(colour, paint, tint.paint_mix);
}

// The unacknowledged alarm's pulse: about one beat a second, visible from across a room, not a
// strobe. Emissive light, as Bevy's lighting adds it (alpha 1: scaled by the view's exposure).
fn pulse(colour: vec3<f32>) -> vec4<f32> {
    if (tint.flags & FLAG_PULSE) != 0u {
        let beat = 0.5 + 0.5 * sin(globals.time * 6.0);
        return vec4<f32>(colour * beat * 1.5, 1.0);
    }
    return vec4<f32>(0.0);
}

@fragment
fn fragment(in: VertexOutput, @builtin(front_facing) is_front: bool) -> FragmentOutput {
#ifdef PREPASS_PIPELINE
    var pbr_input = pbr_input_from_standard_material(in, is_front);

    let colour = tint_colour(pbr_input.material.base_color.rgb);
    pbr_input.material.base_color = vec4<f32>(colour, pbr_input.material.base_color.a);
    pbr_input.material.emissive = pulse(colour);
    pbr_input.material.base_color = alpha_discard(pbr_input.material, pbr_input.material.base_color);
    return deferred_output(in, pbr_input);
#else
#ifdef SIMPLE_LIGHTING
    // The low tier: the paint straight from the material, no textures, diffuse light only.
    let colour = tint_colour(material.base_color.rgb);
    var out: FragmentOutput;
    out.color = simple_shade(in, colour, pulse(colour));
    return out;
#else
    var pbr_input = pbr_input_from_standard_material(in, is_front);
    let colour = tint_colour(pbr_input.material.base_color.rgb);
    pbr_input.material.base_color = vec4<f32>(colour, pbr_input.material.base_color.a);
    pbr_input.material.emissive = pulse(colour);
    pbr_input.material.base_color = alpha_discard(pbr_input.material, pbr_input.material.base_color);
    var out: FragmentOutput;
    out.color = apply_pbr_lighting(pbr_input);
    out.color = main_pass_post_lighting_processing(pbr_input, out.color);
    return out;
#endif
#endif
}
