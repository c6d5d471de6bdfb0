// Lighting for the low render tier: the sun's diffuse light and the ambient light, as Bevy's
// physically based lighting computes them, without its specular highlights, shadows, texture
// lookups and light clusters.
//
// Under a software renderer (llvmpipe) Bevy's full lighting was the scene's cost: the opaque
// pass took 40 ms of a 118 ms frame at 1920x1080 (the 3D view at half resolution), and a
// shader of this size 5.5 ms. Colours, the alarm ramps and the pulse are computed as in the
// other tiers; only how the light falls on them is simpler.

#define_import_path plant_twin::simple_lighting

#import bevy_pbr::{
    forward_io::VertexOutput,
    mesh_view_bindings::{lights, view},
    pbr_bindings::material,
    pbr_functions::main_pass_post_lighting_processing,
    pbr_types,
}

const PI: f32 = 3.141592653589793;

// Linear colour of a surface of `paint` (linear RGB) with this metallic share, normal and
// emissive light, exposed as the view is; the caller tone-maps.
fn simple_lit(world_normal: vec3<f32>, paint: vec3<f32>, metallic: f32, emissive: vec4<f32>) -> vec3<f32> {
    let diffuse = paint * (1.0 - metallic);
    // A surface's reflectance at normal incidence: 4 % for paint, its own colour for metal.
    let f0 = mix(vec3<f32>(0.04), paint, metallic);
    var light = (diffuse + f0) * lights.ambient_color.rgb;
    if lights.n_directional_lights > 0u {
        let sun = lights.directional_lights[0];
        let n_dot_l = max(dot(normalize(world_normal), sun.direction_to_light), 0.0);
        light += diffuse * sun.color.rgb * n_dot_l / PI;
    }
    // Emissive alpha 1 means "in the scene's units", scaled by exposure like the lights.
    return light * view.exposure + emissive.rgb * mix(1.0, view.exposure, emissive.a);
}

// The PbrInput that Bevy's post-lighting step (fog, tone mapping, dithering) reads.
fn post_lighting_input(frag_coord: vec4<f32>, world_position: vec4<f32>, flags: u32) -> pbr_types::PbrInput {
    var input = pbr_types::pbr_input_new();
    input.frag_coord = frag_coord;
    input.world_position = world_position;
    input.material.flags = flags;
    return input;
}

// The fragment's colour: `colour` (linear RGB, the material's paint as the caller shows it)
// lit simply with this emissive light, then fogged, tone-mapped and dithered as Bevy's own
// lighting would be. The material's metallic share, alpha and flags are the standard
// material's.
fn simple_shade(in: VertexOutput, colour: vec3<f32>, emissive: vec4<f32>) -> vec4<f32> {
    let lit = simple_lit(in.world_normal, colour, material.metallic, emissive);
    return main_pass_post_lighting_processing(
        post_lighting_input(in.position, in.world_position, material.flags),
        vec4<f32>(lit, material.base_color.a),
    );
}
