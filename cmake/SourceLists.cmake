# Explicit source lists (no globs build anything), with a guard so that a file or folder nobody
# listed is a configure error naming it, never silently left out of the build.

# jvb_check_sources(DIR <dir> TARGETS <target>...): every <dir>/src/*.cpp must be a source of one
# of the targets.
function(jvb_check_sources)
  cmake_parse_arguments(CS "" "DIR" "TARGETS" ${ARGN})
  set(listed "")
  foreach(target ${CS_TARGETS})
    get_target_property(sources ${target} SOURCES)
    foreach(source ${sources})
      get_filename_component(absolute ${source} ABSOLUTE BASE_DIR ${CS_DIR})
      list(APPEND listed ${absolute})
    endforeach()
  endforeach()
  file(GLOB present ${CS_DIR}/src/*.cpp)
  foreach(file ${present})
    if(NOT file IN_LIST listed)
      file(RELATIVE_PATH shown ${PROJECT_SOURCE_DIR} ${file})
      message(FATAL_ERROR "${shown} is in no source list: add it to the add_library() of "
                          "${CS_DIR}/CMakeLists.txt")
    endif()
  endforeach()
endfunction()

# jvb_add_subdirectories(<folder>...): add_subdirectory for each listed folder; a sibling folder
# with a CMakeLists.txt that is not listed is a configure error.
function(jvb_add_subdirectories)
  foreach(folder ${ARGN})
    add_subdirectory(${folder})
  endforeach()
  file(GLOB entries LIST_DIRECTORIES true ${CMAKE_CURRENT_SOURCE_DIR}/*)
  foreach(entry ${entries})
    get_filename_component(name ${entry} NAME)
    if(IS_DIRECTORY ${entry} AND EXISTS ${entry}/CMakeLists.txt AND NOT name IN_LIST ARGN)
      file(RELATIVE_PATH shown ${PROJECT_SOURCE_DIR} ${entry})
      message(FATAL_ERROR "${shown}/CMakeLists.txt is not built: add \"${name}\" to "
                          "jvb_add_subdirectories() in ${CMAKE_CURRENT_SOURCE_DIR}/CMakeLists.txt")
    endif()
  endforeach()
endfunction()
