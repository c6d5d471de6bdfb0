// The floor with its 1 m and 10 m grid, drawn in the floor's own fragment shader.
//
// The grid used to be two meshes of line primitives blended over the floor. Under a software
// renderer (llvmpipe) those 162 lines cost more than every asset together: 24 ms of a 135 ms
// frame at 1920x1080, 222,000 fragment invocations for a few thousand lit pixels. Here each
// floor pixel darkens its own paint by the line's opacity times how much of the pixel the
// 1-pixel line covers, which is what blending black over the lit floor did, antialiased.
//
// Lines closer together than 5 pixels fade out instead of turning into moire.

#import bevy_pbr::{
    pbr_fragment::pbr_input_from_standard_material,
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

struct FloorGrid {
    // Line spacing of the minor and major grid, metres.
    minor_spacing_m: f32,
    major_spacing_m: f32,
    // How dark a line is: the share of the floor's light it takes away.
    minor_opacity: f32,
    major_opacity: f32,
}

@group(#{MATERIAL_BIND_GROUP}) @binding(100) var<uniform> grid: FloorGrid;

// How much of this pixel a 1-pixel-wide line every `spacing` metres covers (0..1), faded out
// where the lines are under 5 pixels apart (gone at 2: every other pixel would be a line). `pixel_m` is the pixel's footprint in metres.
fn line_coverage(plan_m: vec2<f32>, pixel_m: vec2<f32>, spacing: f32) -> f32 {
    let cell = plan_m / spacing;
    // Distance to the nearest line, in pixels, along each axis.
    let distance_px = abs(fract(cell - 0.5) - 0.5) * spacing / max(pixel_m, vec2<f32>(1e-6));
    let along = clamp(1.0 - distance_px, vec2<f32>(0.0), vec2<f32>(1.0));
    let apart_px = spacing / max(pixel_m, vec2<f32>(1e-6));
    let fade = clamp((apart_px - 2.0) / 3.0, vec2<f32>(0.0), vec2<f32>(1.0));
    let covered = along * fade;
    return max(covered.x, covered.y);
}

@fragment
fn fragment(in: VertexOutput, @builtin(front_facing) is_front: bool) -> FragmentOutput {
    // Plan coordinates (x east, y north) of this point: world x and -z.
    let plan_m = vec2<f32>(in.world_position.x, -in.world_position.z);
    // Derivatives before any branch: they need uniform control flow.
    let pixel_m = fwidth(plan_m);

    let minor = line_coverage(plan_m, pixel_m, grid.minor_spacing_m) * grid.minor_opacity;
    let major = line_coverage(plan_m, pixel_m, grid.major_spacing_m) * grid.major_opacity;
    let keep = 1.0 - max(minor, major);

#ifdef PREPASS_PIPELINE
    var pbr_input = pbr_input_from_standard_material(in, is_front);
    pbr_input.material.base_color = vec4<f32>(pbr_input.material.base_color.rgb * keep, pbr_input.material.base_color.a);
    return deferred_output(in, pbr_input);
#else
#ifdef SIMPLE_LIGHTING
    // The low tier: the paint straight from the material, diffuse light only.
    var out: FragmentOutput;
    out.color = simple_shade(in, material.base_color.rgb * keep, vec4<f32>(0.0));
    return out;
#else
    var pbr_input = pbr_input_from_standard_material(in, is_front);
    pbr_input.material.base_color = vec4<f32>(pbr_input.material.base_color.rgb * keep, pbr_input.material.base_color.a);
    var out: FragmentOutput;
    out.color = apply_pbr_lighting(pbr_input);
    out.color = main_pass_post_lighting_processing(pbr_input, out.color);
    return out;
#endif
#endif
}
